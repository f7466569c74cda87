"""One site: equipment, last heartbeat with its devices and agent block, what the network
served it, what it returned tonight, and its contributions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datas_core.dashboard.network import site_state
from datas_core.db.models import Observation, Site, SiteRanking, SiteStatus, Target
from datas_core.errors import NotFound
from datas_core.lightcurves.quality import night_names

EQUIPMENT = (
    "aperture_mm",
    "focal_length_mm",
    "fov_arcmin",
    "limiting_mag",
    "camera_gain",
    "read_noise_e",
    "saturation_adu",
    "automation_level",
    "altitude_limit_deg",
    "ha_limit_east_h",
    "ha_limit_west_h",
    "elevation_m",
    "timezone",
    "country",
    "owner",
)
SERVED_SHOWN = 50
TONIGHT_SHOWN = 100


def night_start(now: datetime, longitude_deg: float) -> datetime:
    """Local mean noon that began the current night (the night names of lightcurves.quality)."""
    name = str(night_names([now.timestamp()], [longitude_deg])[0])
    day = datetime.fromisoformat(name).replace(tzinfo=timezone.utc)
    return day + timedelta(hours=12) - timedelta(seconds=longitude_deg * 240.0)


def _agent_block(devices: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The agent's own report and its outbox backlog, wherever the agent version put them."""
    agent = devices.get("agent") if isinstance(devices.get("agent"), dict) else None
    outbox = devices.get("outbox")
    if not isinstance(outbox, dict) and agent is not None:
        outbox = agent.get("outbox")
    return agent, outbox if isinstance(outbox, dict) else None


def _served(session: Session, site_id: str) -> dict[str, Any] | None:
    row = session.get(SiteRanking, site_id)
    if row is None:
        return None
    entries = list(row.entries or [])[:SERVED_SHOWN]
    return {
        "computed_at": row.computed_at,
        "valid_until": row.valid_until,
        "site_reason": row.site_reason,
        "entries": entries,
        "excluded": list(row.excluded or [])[:20],
    }


def site_detail(
    session: Session, site_id: str, now: datetime, stale_minutes: float
) -> dict[str, Any]:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"site {site_id!r} does not exist")
    beat = session.scalar(
        select(SiteStatus)
        .where(SiteStatus.site_id == site_id)
        .order_by(SiteStatus.received_at.desc(), SiteStatus.id.desc())
        .limit(1)
    )
    devices = dict(beat.devices or {}) if beat else {}
    agent, outbox = _agent_block(devices)
    device_rows = [
        {"name": name, **(value if isinstance(value, dict) else {"status": value})}
        for name, value in sorted(devices.items())
        if name not in ("agent", "outbox")
    ]
    since = night_start(now, site.longitude)
    tonight_q = (
        select(Observation, Target.name)
        .join(Target, Target.target_id == Observation.target_id)
        .where(Observation.site_id == site_id, Observation.observed_at >= since)
    )
    tonight = session.execute(
        tonight_q.order_by(Observation.observed_at.desc()).limit(TONIGHT_SHOWN)
    ).all()
    tonight_count = session.scalar(
        select(func.count())
        .select_from(Observation)
        .where(Observation.site_id == site_id, Observation.observed_at >= since)
    )
    contributions = session.scalar(
        select(func.count()).select_from(Observation).where(Observation.site_id == site_id)
    )
    state = site_state(
        site.active,
        site.last_heartbeat_at,
        beat.state if beat else None,
        beat.weather if beat else None,
        now,
        stale_minutes,
    )
    return {
        "site": site,
        "equipment": [(k, getattr(site, k)) for k in EQUIPMENT if getattr(site, k) is not None],
        "state": state,
        "heartbeat": beat,
        "heartbeat_age_s": (
            (now - site.last_heartbeat_at).total_seconds() if site.last_heartbeat_at else None
        ),
        "weather": dict(beat.weather or {}) if beat else {},
        "devices": device_rows,
        "agent": agent,
        "outbox": outbox,
        "served": _served(session, site_id),
        "tonight_since": since,
        "tonight": [{"obs": o, "target_name": name} for o, name in tonight],
        "tonight_count": tonight_count or 0,
        "contributions": contributions or 0,
        "reliability": None if site.reliability is None else float(np.clip(site.reliability, 0, 1)),
    }
