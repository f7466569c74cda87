"""Site registry and heartbeats (with the staleness rule)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from datas_core.db.models import Site, SiteStatus
from datas_core.errors import Conflict, InvalidInput, NotFound
from datas_core.schemas.sites import Heartbeat, SiteCreate, SiteUpdate
from datas_core.services.paging import Page, paginate


def slug_for(session: Session, name: str) -> str:
    """A free site_id made from a name: 'Mt. John 1.0m' -> 'mt-john-1-0m' (then -2, -3...)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    base = (base or "site")[:56].strip("-")
    if len(base) < 2:
        base = f"site-{base}".strip("-")
    taken = set(session.scalars(select(Site.site_id).where(Site.site_id.like(f"{base}%"))))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def create_site(session: Session, item: SiteCreate) -> Site:
    if item.site_id is None:
        item = item.model_copy(update={"site_id": slug_for(session, item.name)})
    if session.get(Site, item.site_id) is not None:
        raise Conflict(f"site_id {item.site_id!r} is already registered; pick another slug")
    clash = session.scalar(select(Site.site_id).where(Site.name == item.name))
    if clash:
        raise Conflict(f"a site named {item.name!r} already exists (site_id {clash!r})")
    data = item.model_dump()
    if data.get("horizon") is not None:
        data["horizon"] = [list(p) for p in data["horizon"]]
    site = Site(**data)
    session.add(site)
    session.flush()
    return site


def get_site(session: Session, site_id: str) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"site {site_id!r} does not exist; list sites with GET /api/v1/sites")
    return site


def list_sites(
    session: Session, *, limit: int = 100, offset: int = 0, active: bool | None = None
) -> Page[Site]:
    stmt = select(Site).order_by(Site.site_id)
    if active is not None:
        stmt = stmt.where(Site.active == active)
    return paginate(session, stmt, limit, offset)


def heartbeat_state(
    last_heartbeat_at: datetime | None, stale_minutes: float, now: datetime | None = None
) -> str:
    """online / stale / never_seen. Stale means unknown, and unknown is never treated as safe."""
    if last_heartbeat_at is None:
        return "never_seen"
    now = now or datetime.now(timezone.utc)
    return "online" if now - last_heartbeat_at <= timedelta(minutes=stale_minutes) else "stale"


def record_heartbeat(session: Session, site_id: str, beat: Heartbeat) -> SiteStatus:
    site = get_site(session, site_id)
    now = datetime.now(timezone.utc)
    status = SiteStatus(
        site_id=site_id,
        received_at=now,
        reported_at=beat.reported_at,
        state=beat.state,
        weather=beat.weather.model_dump(exclude_none=True),
        devices=beat.devices,
        agent_version=beat.agent_version,
        message=beat.message,
    )
    session.add(status)
    site.last_heartbeat_at = now
    session.flush()
    return status


def latest_heartbeat(session: Session, site_id: str) -> SiteStatus | None:
    return session.scalar(
        select(SiteStatus)
        .where(SiteStatus.site_id == site_id)
        .order_by(SiteStatus.received_at.desc(), SiteStatus.id.desc())
        .limit(1)
    )


# Columns that must keep a value: sending null for them is a mistake, not a change.
_REQUIRED = {
    "name",
    "active",
    "latitude",
    "longitude",
    "elevation_m",
    "filters",
    "automation_level",
    "altitude_limit_deg",
}


def update_site(session: Session, site_id: str, item: SiteUpdate) -> Site:
    """Apply the fields sent (a field left out keeps its value)."""
    site = get_site(session, site_id)
    changes = item.model_dump(exclude_unset=True)
    empty = sorted(k for k, v in changes.items() if v is None and k in _REQUIRED)
    if empty:
        raise InvalidInput(f"{', '.join(empty)} cannot be empty; leave a field out to keep it")
    if changes.get("name") and changes["name"] != site.name:
        clash = session.scalar(select(Site.site_id).where(Site.name == changes["name"]))
        if clash:
            raise Conflict(f"a site named {changes['name']!r} already exists (site_id {clash!r})")
    for key, value in changes.items():
        setattr(site, key, value)
    session.flush()
    return site
