"""Recent observations, filtered by site, target and UTC date, with their frames' state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datas_core.db.models import Frame, Observation, Site, Target, TargetAlias

PAGE = 100


@dataclass(frozen=True)
class ObservationFilter:
    site_id: str | None = None
    target: str | None = None  # a target id, name or alias
    day: date | None = None  # UTC date of observed_at
    before: datetime | None = None  # paging: rows observed before this instant


def resolve_target(session: Session, ref: str) -> int | None:
    ref = ref.strip()
    if ref.isdigit():
        return int(ref)
    found = session.scalar(select(Target.target_id).where(Target.name == ref))
    if found is None:
        found = session.scalar(select(TargetAlias.target_id).where(TargetAlias.alias == ref))
    return found


def recent_observations(session: Session, f: ObservationFilter) -> dict[str, Any]:
    stmt = (
        select(Observation, Target.name, Site.name)
        .join(Target, Target.target_id == Observation.target_id)
        .join(Site, Site.site_id == Observation.site_id)
    )
    target_id = None
    if f.target:
        target_id = resolve_target(session, f.target)
        if target_id is None:
            return {"rows": [], "unknown_target": True, "next_before": None}
        stmt = stmt.where(Observation.target_id == target_id)
    if f.site_id:
        stmt = stmt.where(Observation.site_id == f.site_id)
    if f.day:
        start = datetime.combine(f.day, time(0), tzinfo=timezone.utc)
        stmt = stmt.where(
            Observation.observed_at >= start, Observation.observed_at < start + timedelta(days=1)
        )
    if f.before:
        stmt = stmt.where(Observation.observed_at < f.before)
    found = session.execute(
        stmt.order_by(Observation.observed_at.desc(), Observation.observation_id).limit(PAGE + 1)
    ).all()
    more = len(found) > PAGE
    found = found[:PAGE]
    frames = frames_by_id(session, [o.frame_id for o, _, _ in found if o.frame_id])
    rows = [
        {
            "obs": o,
            "target_name": tname,
            "site_name": sname,
            "frame": frames.get(o.frame_id) if o.frame_id else None,
        }
        for o, tname, sname in found
    ]
    return {
        "rows": rows,
        "target_id": target_id,
        "unknown_target": False,
        "next_before": found[-1][0].observed_at if more else None,
    }


def frames_by_id(session: Session, frame_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not frame_ids:
        return {}
    rows = session.execute(
        select(Frame.frame_id, Frame.status, Frame.filename, Frame.error).where(
            Frame.frame_id.in_(sorted(set(frame_ids)))
        )
    ).all()
    return {r.frame_id: r._asdict() for r in rows}


def frame_detail(session: Session, frame_id: str) -> dict[str, Any] | None:
    frame = session.get(Frame, frame_id)
    if frame is None:
        return None
    results = dict(frame.results or {})
    # By primary key: the upload names its observation, the reduction the one it wrote.
    ids = {i for i in (frame.observation_id, results.get("observation_id")) if isinstance(i, str)}
    observations = session.execute(
        select(Observation, Target.name)
        .join(Target, Target.target_id == Observation.target_id)
        .where(Observation.observation_id.in_(sorted(ids)))
    ).all()
    return {
        "frame": frame,
        "flags": list(results.get("flags") or []),
        "summary": {k: v for k, v in results.items() if not isinstance(v, (dict, list))},
        "observations": [{"obs": o, "target_name": n} for o, n in observations],
    }
