"""Rendering: one autoescaping Jinja2 environment, page vs fragment answers, the viewer."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import ChainableUndefined, Environment, FileSystemLoader
from sqlalchemy.orm import Session

from datas_api.deps import SESSION_COOKIE
from datas_core import __version__
from datas_core.errors import Unauthorized
from datas_core.schemas.auth import Principal
from datas_core.services import auth

HERE = Path(__file__).resolve().parent
REFRESH_SECONDS = 30


def _utc(value: datetime | None, seconds: bool = False) -> str:
    if value is None:
        return "-"
    return value.astimezone(timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    )


def _ago(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 90:
        return f"{max(0, round(seconds))} s ago"
    if seconds < 5400:
        return f"{round(seconds / 60)} min ago"
    if seconds < 172800:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def _num(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _hms(ra_deg: float) -> str:
    total = round((ra_deg % 360.0) / 15.0 * 3600.0, 2) % 86400.0
    h, rest = divmod(total, 3600.0)
    m, sec = divmod(rest, 60.0)
    return f"{int(h):02d}h{int(m):02d}m{sec:05.2f}s"


def _dms(dec_deg: float) -> str:
    sign = "-" if dec_deg < 0 else "+"
    total = round(abs(dec_deg) * 3600.0, 1)
    d, rest = divmod(total, 3600.0)
    m, sec = divmod(rest, 60.0)
    return f"{sign}{int(d):02d}°{int(m):02d}'{sec:04.1f}\""


env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every value is escaped unless a template says otherwise (none does)
    undefined=ChainableUndefined,  # heartbeat and ranking JSON vary by agent version
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters.update(utc=_utc, ago=_ago, num=_num, pct=_pct, hms=_hms, dms=_dms)
env.globals.update(version=__version__, refresh_seconds=REFRESH_SECONDS, quote=quote)


def wants_fragment(request: Request) -> bool:
    return request.query_params.get("fragment") == "1"


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    viewer: Principal | None,
    status_code: int = 200,
) -> HTMLResponse:
    """The whole page, or with ?fragment=1 only its `live` block (what the page refreshes)."""
    template = env.get_template(name)
    ctx = {
        "request_path": request.url.path,
        "request_query": str(request.url.query),
        "viewer": viewer,
        "now_utc": datetime.now(timezone.utc),
        **context,
    }
    if wants_fragment(request):
        body = "".join(template.blocks["live"](template.new_context(ctx)))
    else:
        body = template.render(ctx)
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


class LoginNeeded(Exception):
    def __init__(self, expired: bool) -> None:
        self.expired = expired


def viewer(request: Request, session: Session) -> Principal:
    """The logged-in person (session cookie). API keys are for scripts, not for pages."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginNeeded(expired=False)
    try:
        return auth.authenticate_session(session, token)
    except Unauthorized as exc:
        raise LoginNeeded(expired=True) from exc


def to_login(request: Request, need: LoginNeeded) -> Response:
    """Pages redirect to the login page; a refresh (fragment) gets 401 and the script goes."""
    if wants_fragment(request):
        return JSONResponse(
            {"error": "unauthorized", "message": "log in again", "details": []}, status_code=401
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = f"/dashboard/login?next={quote(target, safe='')}"
    if need.expired:
        url += "&expired=1"
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def not_found(request: Request, who: Principal, message: str) -> HTMLResponse:
    return render(request, "error.html", {"title": "Not found", "message": message}, who, 404)


def forbidden(request: Request, who: Principal | None) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {
            "title": "Not allowed",
            "message": "This needs an administrator. Nothing was changed.",
        },
        who,
        403,
    )
