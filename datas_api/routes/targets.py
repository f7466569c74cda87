"""Targets: the ranked list for a site, the catalog, cone search."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from datas_api.auditing import AuditedAdmin
from datas_api.deps import Reader, SessionDep
from datas_api.params import IdPath, OffsetQuery
from datas_core.errors import Forbidden, InvalidInput
from datas_core.scheduling.config import scheduler_config
from datas_core.schemas.common import UtcTime
from datas_core.schemas.targets import (
    ConeResult,
    SiteTargetList,
    TargetCreate,
    TargetOut,
    TargetPage,
    TargetUpdate,
)
from datas_core.services import audit, campaigns, catalog_version, rankings, targets

router = APIRouter(prefix="/api/v1/targets", tags=["targets"])


@router.get(
    "",
    response_model=SiteTargetList | TargetPage,
    summary="Ranked targets for a site (with site_id), else the target catalog",
)
def list_targets(
    request: Request,
    session: SessionDep,
    principal: Reader,
    site_id: Annotated[str | None, Query(description="rank for this site")] = None,
    count: Annotated[int, Query(ge=1, le=1000, description="page size")] = 20,
    offset: OffsetQuery = 0,
    priority_min: Annotated[float | None, Query(ge=0, le=10)] = None,
    campaign: Annotated[str | None, Query(description="campaign id or name")] = None,
    target_type: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=200, description="name contains")] = None,
    active: Annotated[bool | None, Query(description="catalog listing only")] = True,
    explain: Annotated[
        bool, Query(description="with site_id: also the best excluded targets and why")
    ] = False,
    at: Annotated[
        UtcTime | None,
        Query(description="with site_id: rank for this ISO time instead of now (preview)"),
    ] = None,
) -> Any:
    campaign_id = campaigns.find_campaign(session, campaign).campaign_id if campaign else None
    if site_id is None:
        page = targets.list_targets(
            session,
            limit=count,
            offset=offset,
            active=active,
            priority_min=priority_min,
            campaign_id=campaign_id,
            target_type=target_type,
            name_like=q,
        )
        return TargetPage(targets=[TargetOut.model_validate(t) for t in page.items], **page.info())
    if principal.role == "site" and principal.site_id != site_id:
        raise Forbidden(f"this key belongs to site {principal.site_id!r}; ask for its own list")
    if at is not None and at.tzinfo is None:
        raise InvalidInput("'at' needs a timezone, e.g. 2026-11-23T22:00:00Z")
    now = at or datetime.now(timezone.utc)
    state = request.app.state
    settings = state.settings
    version = state.version_cache.get_or_load("v", lambda: catalog_version.current(session))
    cfg = scheduler_config(settings)
    stale = settings.heartbeat_stale_minutes
    # An unknown or inactive site is refused before anything is ranked for it.
    state.site_cache.get_or_load(site_id, lambda: rankings.require_active_site(session, site_id))
    lists = state.stored_lists
    if at is None:  # serving now: keep the network's stored lists fresh
        stored = rankings.refresh_if_stale(session, site_id, now, cfg, stale, lists)
    else:
        stored = lists.get(session, site_id)
    members = (
        set(campaigns.campaign_target_ids(session, campaign_id))
        if campaign_id is not None
        else None
    )
    body = rankings.serve_site_list(
        session,
        site_id,
        now,
        cfg,
        stale,
        count=count,
        offset=offset,
        explain=explain,
        priority_min=priority_min,
        campaign_target_ids=members,
        stored=stored,
        current_version=version,
    )
    return Response(json.dumps(body), media_type="application/json")


@router.post("", response_model=TargetOut, status_code=status.HTTP_201_CREATED)
def create_target(body: TargetCreate, session: SessionDep, who: AuditedAdmin) -> Any:
    target = targets.create_target(session, body)
    tid = target.target_id
    detail = {"name": target.name, "ra_deg": target.ra_deg, "dec_deg": target.dec_deg}
    audit.record(session, who.actor, "target.create", "target", tid, detail, who.source)
    session.commit()
    return target


@router.get("/cone", response_model=ConeResult, summary="Cone search (correct at RA 0/360, poles)")
def cone(
    session: SessionDep,
    _: Reader,
    ra: Annotated[float, Query(ge=0, lt=360, description="deg")],
    dec: Annotated[float, Query(ge=-90, le=90, description="deg")],
    radius_arcsec: Annotated[float, Query(gt=0, le=180 * 3600)] = 60.0,
    count: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    matches = targets.cone_search(session, ra, dec, radius_arcsec / 3600.0, limit=count)
    rows = [
        {**TargetOut.model_validate(t).model_dump(), "separation_arcsec": round(sep, 4)}
        for t, sep in matches
    ]
    return {"targets": rows, "total": len(rows), "limit": count, "offset": 0, "next_offset": None}


@router.get("/{target_id}", response_model=TargetOut)
def get_target(target_id: IdPath, session: SessionDep, _: Reader) -> Any:
    return targets.get_target(session, target_id)


@router.patch("/{target_id}", response_model=TargetOut)
def update_target(
    target_id: IdPath, body: TargetUpdate, session: SessionDep, who: AuditedAdmin
) -> Any:
    target = targets.update_target(session, target_id, body)
    detail = {"name": target.name, "changed": body.model_dump(mode="json", exclude_unset=True)}
    audit.record(session, who.actor, "target.update", "target", target_id, detail, who.source)
    session.commit()
    return target
