"""The network at a glance: every site's state for the map, and headline counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datas_core.dashboard.geo import night_path, subsolar_point
from datas_core.db.models import Frame, Observation, Site, SiteStatus, Target

# Agent states (site_agent.executor) in which the telescope is working on a target.
OBSERVING_STATES = {"selecting", "slewing", "exposing", "uploading"}
STATES = ("observing", "idle", "unsafe", "offline", "paused")


def site_state(
    active: bool,
    last_heartbeat_at: datetime | None,
    agent_state: str | None,
    weather: dict[str, Any] | None,
    now: datetime,
    stale_minutes: float,
) -> str:
    """observing / idle / unsafe / offline / paused. A stale heartbeat is offline whatever it
    said last: unknown is never shown as fine."""
    if not active:
        return "paused"
    if last_heartbeat_at is None or now - last_heartbeat_at > timedelta(minutes=stale_minutes):
        return "offline"
    weather = weather or {}
    if weather.get("safe") is False or weather.get("rain") or agent_state == "safe-hold":
        return "unsafe"
    if agent_state in OBSERVING_STATES:
        return "observing"
    return "idle"


def site_states(session: Session, now: datetime, stale_minutes: float) -> list[dict[str, Any]]:
    """One row per site with its latest heartbeat's state."""
    # The latest heartbeat's id per site from the (site_id, received_at) index: a correlated
    # subquery keeps both backends to one index probe per site (PostgreSQL would otherwise
    # hash-join the whole heartbeat history).
    latest_id = (
        select(SiteStatus.id)
        .where(SiteStatus.site_id == Site.site_id)
        .order_by(SiteStatus.received_at.desc(), SiteStatus.id.desc())
        .limit(1)
        .correlate(Site)
        .scalar_subquery()
    )
    stmt = (
        select(
            Site.site_id,
            Site.name,
            Site.latitude,
            Site.longitude,
            Site.active,
            Site.last_heartbeat_at,
            Site.reliability,
            SiteStatus.state,
            SiteStatus.weather,
            SiteStatus.message,
        )
        .outerjoin(SiteStatus, SiteStatus.id == latest_id)
        .order_by(Site.site_id)
    )
    rows = session.connection().execute(stmt).all()  # Core: no ORM work per row
    out: list[dict[str, Any]] = []
    for r in rows:
        age = (now - r.last_heartbeat_at).total_seconds() if r.last_heartbeat_at else None
        out.append(
            {
                "site_id": r.site_id,
                "name": r.name,
                "latitude": r.latitude,
                "longitude": r.longitude,
                "active": r.active,
                "last_heartbeat_at": r.last_heartbeat_at,
                "heartbeat_age_s": age,
                "agent_state": r.state,
                "message": r.message,
                "reliability": r.reliability,
                "state": site_state(
                    r.active, r.last_heartbeat_at, r.state, r.weather, now, stale_minutes
                ),
            }
        )
    return out


def overview(session: Session, now: datetime, stale_minutes: float) -> dict[str, Any]:
    sites = site_states(session, now, stale_minutes)
    counts = {state: 0 for state in STATES}
    for s in sites:
        counts[s["state"]] += 1
    day_ago = now - timedelta(hours=24)
    totals = {
        "sites": len(sites),
        "active_targets": session.scalar(
            select(func.count()).select_from(Target).where(Target.active.is_(True))
        ),
        "observations_24h": session.scalar(
            select(func.count()).select_from(Observation).where(Observation.received_at >= day_ago)
        ),
        "frames_waiting": session.scalar(
            select(func.count()).select_from(Frame).where(Frame.status == "received")
        ),
    }
    # Problems first, then by name: the table under the map lists what needs a person.
    order = {"offline": 0, "unsafe": 1, "observing": 2, "idle": 3, "paused": 4}
    attention = sorted(sites, key=lambda s: (order[s["state"]], s["name"]))
    sun_lon, sun_lat = subsolar_point(now)
    return {
        "now": now,
        "sites": sites,
        "table": attention,
        "counts": counts,
        "totals": totals,
        "sun": {"lon": sun_lon, "lat": sun_lat, "x": sun_lon + 180.0, "y": 90.0 - sun_lat},
        "night_path": night_path(now),
    }
