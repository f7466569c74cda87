"""Target catalog: create, update, list, cone search."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from datas_core.db.models import CampaignTarget, Target, TargetAlias
from datas_core.errors import Conflict, InvalidInput, NotFound
from datas_core.schemas.targets import TargetCreate, TargetUpdate
from datas_core.services import catalog_version
from datas_core.services.paging import Page, paginate
from datas_core.sky.healpix import cone_ranges, healpix_index
from datas_core.sky.vectors import radec_to_unit


def _position_columns(ra_deg: Any, dec_deg: Any) -> dict[str, Any]:
    xyz = radec_to_unit(ra_deg, dec_deg)
    return {
        "x": xyz[..., 0],
        "y": xyz[..., 1],
        "z": xyz[..., 2],
        "healpix": healpix_index(ra_deg, dec_deg),
    }


def existing_names(session: Session, names: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(names), 500):
        chunk = list(names[start : start + 500])
        rows = session.execute(select(Target.name, Target.target_id).where(Target.name.in_(chunk)))
        found.update({name: tid for name, tid in rows})
    return found


def existing_aliases(session: Session, aliases: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(aliases), 500):
        chunk = list(aliases[start : start + 500])
        rows = session.execute(
            select(TargetAlias.alias, TargetAlias.target_id).where(TargetAlias.alias.in_(chunk))
        )
        found.update({alias: tid for alias, tid in rows})
    return found


def duplicate_problems(
    session: Session, items: Sequence[TargetCreate], labels: Sequence[str] | None = None
) -> dict[int, str]:
    """Index -> message for items whose name or alias clashes with the catalog or an earlier item.

    `labels` name the items in messages (e.g. "line 7" for a CSV row); default "item N".
    """
    labels = labels or [f"item {i}" for i in range(len(items))]
    taken_names = existing_names(session, [t.name for t in items])
    taken_aliases = existing_aliases(session, [a.alias for t in items for a in t.aliases])
    seen_names: dict[str, int] = {}
    seen_aliases: dict[str, int] = {}
    problems: dict[int, str] = {}
    for index, t in enumerate(items):
        problem = None
        if t.name in taken_names:
            problem = f"a target named {t.name!r} already exists (target_id {taken_names[t.name]})"
        elif t.name in seen_names:
            problem = f"the name {t.name!r} appears twice (first at {labels[seen_names[t.name]]})"
        for a in t.aliases:
            if problem:
                break
            if a.alias in taken_aliases:
                problem = f"alias {a.alias!r} already belongs to target_id {taken_aliases[a.alias]}"
            elif a.alias in seen_aliases:
                problem = (
                    f"alias {a.alias!r} appears twice (first at {labels[seen_aliases[a.alias]]})"
                )
        if problem:
            problems[index] = problem
            continue
        seen_names[t.name] = index
        seen_aliases.update({a.alias: index for a in t.aliases})
    return problems


def create_targets(session: Session, items: Sequence[TargetCreate]) -> list[Target]:
    """Insert targets all-or-nothing; duplicates (in the catalog or the request) are a Conflict."""
    if not items:
        return []
    problems = list(duplicate_problems(session, items).values())
    if problems:
        raise Conflict("; ".join(problems[:20]) + ("; ..." if len(problems) > 20 else ""))
    ra = np.array([t.ra_deg for t in items])
    dec = np.array([t.dec_deg for t in items])
    pos = _position_columns(ra, dec)
    targets = []
    for i, item in enumerate(items):
        fields = item.model_dump(exclude={"aliases"})
        target = Target(
            **fields,
            x=float(pos["x"][i]),
            y=float(pos["y"][i]),
            z=float(pos["z"][i]),
            healpix=int(pos["healpix"][i]),
            aliases=[TargetAlias(alias=a.alias, source=a.source) for a in item.aliases],
        )
        targets.append(target)
    session.add_all(targets)
    catalog_version.bump(session)
    session.flush()
    return targets


def create_target(session: Session, item: TargetCreate) -> Target:
    return create_targets(session, [item])[0]


def get_target(session: Session, target_id: int) -> Target:
    target = session.get(Target, target_id)
    if target is None:
        raise NotFound(f"target {target_id} does not exist; list targets with GET /api/v1/targets")
    return target


def find_target(session: Session, ref: str) -> Target:
    """A target by id, name or alias (what a person types on the command line)."""
    if ref.isdigit():
        return get_target(session, int(ref))
    target = session.scalar(select(Target).where(Target.name == ref))
    if target is None:
        alias = session.scalar(select(TargetAlias).where(TargetAlias.alias == ref))
        target = alias.target if alias else None
    if target is None:
        raise NotFound(f"no target with id, name or alias {ref!r}")
    return target


def update_target(session: Session, target_id: int, changes: TargetUpdate) -> Target:
    target = get_target(session, target_id)
    data = changes.model_dump(exclude_unset=True)
    if "name" in data and data["name"] != target.name:
        clash = existing_names(session, [data["name"]])
        if clash:
            raise Conflict(
                f"a target named {data['name']!r} already exists (target_id {clash[data['name']]})"
            )
    for field in ("ra_deg", "dec_deg", "name", "priority", "active"):
        if field in data and data[field] is None:
            raise InvalidInput(f"{field} cannot be null; leave it out to keep the current value")
    for key, value in data.items():
        setattr(target, key, value)
    if "ra_deg" in data or "dec_deg" in data:
        pos = _position_columns(target.ra_deg, target.dec_deg)
        target.x, target.y, target.z = (float(pos[k]) for k in ("x", "y", "z"))
        target.healpix = int(pos["healpix"][0])
    start, end = target.time_critical_start, target.time_critical_end
    if start and end and end <= start:
        raise InvalidInput("time_critical_end must be after time_critical_start")
    catalog_version.bump(session)
    session.flush()
    return target


def list_targets(
    session: Session,
    *,
    limit: int = 100,
    offset: int = 0,
    active: bool | None = True,
    priority_min: float | None = None,
    campaign_id: int | None = None,
    target_type: str | None = None,
    name_like: str | None = None,
) -> Page[Target]:
    stmt = select(Target).order_by(Target.priority.desc(), Target.target_id)
    if active is not None:
        stmt = stmt.where(Target.active == active)
    if priority_min is not None:
        stmt = stmt.where(Target.priority >= priority_min)
    if target_type:
        stmt = stmt.where(Target.target_type == target_type)
    if name_like:
        stmt = stmt.where(Target.name.ilike(f"%{name_like}%"))
    if campaign_id is not None:
        stmt = stmt.join(CampaignTarget, CampaignTarget.target_id == Target.target_id).where(
            CampaignTarget.campaign_id == campaign_id
        )
    return paginate(session, stmt, limit, offset)


def cone_search(
    session: Session,
    ra_deg: float,
    dec_deg: float,
    radius_deg: float,
    *,
    limit: int = 100,
    active_only: bool = False,
) -> list[tuple[Target, float]]:
    """Targets within `radius_deg`, nearest first, with separations in arcsec.

    HEALPix ranges narrow the rows through the index; the dot product against the stored unit
    vector is the exact test, so RA wrap-around and the poles need no special cases.
    """
    if not (0 < radius_deg <= 180):
        raise InvalidInput(f"radius must be in (0, 180] degrees (got {radius_deg})")
    centre = radec_to_unit(ra_deg, dec_deg)
    cx, cy, cz = (float(c) for c in centre)
    # Small margin on the cosine so a point exactly on the edge is not lost to rounding.
    min_dot = math.cos(math.radians(radius_deg)) - 1e-12
    dot = Target.x * cx + Target.y * cy + Target.z * cz
    ranges = cone_ranges(ra_deg, dec_deg, radius_deg)
    stmt = select(Target, dot).where(
        or_(*(Target.healpix.between(lo, hi) for lo, hi in ranges)), dot >= min_dot
    )
    if active_only:
        stmt = stmt.where(Target.active.is_(True))
    stmt = stmt.order_by(dot.desc()).limit(limit)
    results = []
    for target, d in session.execute(stmt):
        sep = math.degrees(math.acos(max(-1.0, min(1.0, float(d))))) * 3600.0
        results.append((target, sep))
    return results
