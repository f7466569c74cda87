"""The pages readers see. Each answers the whole page, or its refreshable part with
?fragment=1 (what the page's script fetches every REFRESH_SECONDS)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from datas_api.dashboard.views import (
    LoginNeeded,
    env,
    not_found,
    render,
    to_login,
    viewer,
)
from datas_api.deps import SessionDep, SettingsDep
from datas_core.dashboard import alerts, campaigns, network, observations, quality, sites, targets
from datas_core.errors import NotFound
from datas_core.schemas.auth import Principal

router = APIRouter()
Text = Annotated[str | None, Query(max_length=200)]


def _page(
    request: Request, session: SessionDep, build: Callable[[Principal], Response]
) -> Response:
    try:
        who = viewer(request, session)
    except LoginNeeded as need:
        return to_login(request, need)
    try:
        return build(who)
    except NotFound as exc:
        return not_found(request, who, exc.message)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _int(value: str | None, default: int = 0) -> int:
    return int(value) if value and value.isdigit() and len(value) < 10 else default


@router.get("/login")
def login_page(next: Text = None, expired: Text = None, logged_out: Text = None) -> Response:
    # Only a local path may follow a login (no open redirect).
    safe_next = next if next and next.startswith("/dashboard") and "//" not in next else ""
    body = env.get_template("login.html").render(
        title="Log in",
        next=safe_next or "/dashboard/network",
        expired=bool(expired),
        logged_out=bool(logged_out),
        viewer=None,
        request_path="/dashboard/login",
        request_query="",
        now_utc=_now(),
    )
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/network")
def network_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    def build(who: Principal) -> Response:
        data = network.overview(session, _now(), settings.heartbeat_stale_minutes)
        return render(request, "network.html", {"title": "Network", "data": data}, who)

    return _page(request, session, build)


@router.get("/sites/{site_id}")
def site_page(
    site_id: str, request: Request, session: SessionDep, settings: SettingsDep
) -> Response:
    def build(who: Principal) -> Response:
        data = sites.site_detail(session, site_id, _now(), settings.heartbeat_stale_minutes)
        return render(request, "site.html", {"title": data["site"].name, "d": data}, who)

    return _page(request, session, build)


@router.get("/observations")
def observations_page(
    request: Request,
    session: SessionDep,
    site: Text = None,
    target: Text = None,
    day: Text = None,
    before: Text = None,
) -> Response:
    def build(who: Principal) -> Response:
        problems = []
        day_value = None
        if day:
            try:
                day_value = date.fromisoformat(day)
            except ValueError:
                problems.append(f"the date {day!r} is not YYYY-MM-DD; it was ignored")
        before_value = None
        if before:
            try:
                before_value = datetime.fromisoformat(before)
                if before_value.tzinfo is None:
                    before_value = before_value.replace(tzinfo=timezone.utc)
            except ValueError:
                problems.append("the page cursor was not a time; showing the newest")
        flt = observations.ObservationFilter(
            site_id=site or None, target=target or None, day=day_value, before=before_value
        )
        data = observations.recent_observations(session, flt)
        context = {
            "title": "Observations",
            "d": data,
            "f": {"site": site or "", "target": target or "", "day": day or ""},
            "problems": problems,
        }
        return render(request, "observations.html", context, who)

    return _page(request, session, build)


@router.get("/frames/{frame_id}")
def frame_page(frame_id: str, request: Request, session: SessionDep) -> Response:
    def build(who: Principal) -> Response:
        data = observations.frame_detail(session, frame_id[:36])
        if data is None:
            raise NotFound(f"frame {frame_id!r} does not exist")
        return render(request, "frame.html", {"title": "Frame", "d": data}, who)

    return _page(request, session, build)


@router.get("/campaigns")
def campaigns_page(request: Request, session: SessionDep) -> Response:
    def build(who: Principal) -> Response:
        data = campaigns.campaign_list(session, _now())
        return render(request, "campaigns.html", {"title": "Campaigns", "rows": data}, who)

    return _page(request, session, build)


@router.get("/campaigns/{campaign_id}")
def campaign_page(
    campaign_id: str, request: Request, session: SessionDep, offset: Text = None
) -> Response:
    def build(who: Principal) -> Response:
        cid = _int(campaign_id, -1)
        if cid < 0:
            raise NotFound(f"campaign {campaign_id!r} does not exist")
        data = campaigns.campaign_detail(session, cid, _now(), _int(offset))
        return render(request, "campaign.html", {"title": data["campaign"].name, "d": data}, who)

    return _page(request, session, build)


@router.get("/targets")
def targets_page(request: Request, session: SessionDep, q: Text = None) -> Response:
    def build(who: Principal) -> Response:
        rows = targets.search_targets(session, q)
        return render(
            request, "targets.html", {"title": "Targets", "rows": rows, "q": q or ""}, who
        )

    return _page(request, session, build)


@router.get("/targets/{target_id}")
def target_page(
    target_id: str, request: Request, session: SessionDep, sites: Text = None
) -> Response:
    def build(who: Principal) -> Response:
        tid = _int(target_id, -1)
        if tid < 0:
            raise NotFound(f"target {target_id!r} does not exist")
        chosen = [s.strip() for s in (sites or "").split(",") if s.strip()]
        data = targets.target_detail(session, tid, _now(), chosen or None)
        return render(request, "target.html", {"title": data["target"].name, "d": data}, who)

    return _page(request, session, build)


@router.get("/quality")
def quality_page(
    request: Request, session: SessionDep, days: Text = None, site: Text = None
) -> Response:
    def build(who: Principal) -> Response:
        n = min(max(_int(days, 7), 1), 30)
        now = _now()
        context = {
            "title": "Data quality",
            "q": quality.site_nights(session, now, n, site or None),
            "frames": quality.pipeline_failures(session, now, n),
            "site": site or "",
        }
        return render(request, "quality.html", context, who)

    return _page(request, session, build)


@router.get("/alerts")
def alerts_page(request: Request, session: SessionDep) -> Response:
    def build(who: Principal) -> Response:
        data = alerts.latest_by_feed(session, _now())
        return render(request, "alerts.html", {"title": "Alerts", "feeds": data}, who)

    return _page(request, session, build)
