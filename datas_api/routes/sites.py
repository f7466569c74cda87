"""Sites and heartbeats."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from datas_api.auditing import AuditedAdmin
from datas_api.deps import Reader, SessionDep, SettingsDep, SiteWriter, site_scope
from datas_api.params import OffsetQuery
from datas_core.db.models import Site
from datas_core.errors import Forbidden
from datas_core.schemas.sites import (
    Heartbeat,
    HeartbeatOut,
    SiteCreate,
    SiteDetail,
    SitePage,
    SiteUpdate,
)
from datas_core.services import audit, sites

router = APIRouter(prefix="/api/v1/sites", tags=["sites"])


def _site_out(site: Site, stale_minutes: float) -> dict[str, Any]:
    data = {c.key: getattr(site, c.key) for c in Site.__table__.columns}
    data["status"] = sites.heartbeat_state(site.last_heartbeat_at, stale_minutes)
    return data


@router.get("", response_model=SitePage)
def list_sites(
    session: SessionDep,
    settings: SettingsDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetQuery = 0,
    active: bool | None = None,
) -> Any:
    page = sites.list_sites(session, limit=limit, offset=offset, active=active)
    return {
        "sites": [_site_out(s, settings.heartbeat_stale_minutes) for s in page.items],
        **page.info(),
    }


@router.post("", response_model=SiteDetail, status_code=status.HTTP_201_CREATED)
def create_site(
    body: SiteCreate, session: SessionDep, settings: SettingsDep, who: AuditedAdmin
) -> Any:
    site = sites.create_site(session, body)
    detail = {"name": site.name, "latitude": site.latitude, "longitude": site.longitude}
    audit.record(session, who.actor, "site.create", "site", site.site_id, detail, who.source)
    session.commit()
    return _site_out(site, settings.heartbeat_stale_minutes)


@router.get("/{site_id}", response_model=SiteDetail)
def get_site(site_id: str, session: SessionDep, settings: SettingsDep, _: Reader) -> Any:
    site = sites.get_site(session, site_id)
    data = _site_out(site, settings.heartbeat_stale_minutes)
    latest = sites.latest_heartbeat(session, site_id)
    data["latest_heartbeat"] = HeartbeatOut.model_validate(latest) if latest else None
    return data


@router.patch("/{site_id}", response_model=SiteDetail)
def update_site(
    site_id: str,
    body: SiteUpdate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    who: AuditedAdmin,
) -> Any:
    """Change a site's fields (admin); `{"active": false}` pauses it: it is served nothing."""
    site = sites.update_site(session, site_id, body)
    detail = {"changed": body.model_dump(mode="json", exclude_unset=True)}
    audit.record(session, who.actor, "site.update", "site", site_id, detail, who.source)
    session.commit()
    request.app.state.site_cache.invalidate(site_id)  # this worker at once; others within TTL
    return _site_out(site, settings.heartbeat_stale_minutes)


@router.put("/{site_id}/heartbeat", response_model=HeartbeatOut)
def heartbeat(site_id: str, body: Heartbeat, session: SessionDep, principal: SiteWriter) -> Any:
    scope = site_scope(principal)
    if scope is not None and scope != site_id:
        raise Forbidden(f"this key may only send heartbeats for site {scope!r}")
    status_row = sites.record_heartbeat(session, site_id, body)
    session.commit()
    return status_row
