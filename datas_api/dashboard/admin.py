"""Admin actions. The page only holds forms: each form's script calls the existing API with
the session cookie (same-origin fetch), so the API's role checks and audit log apply."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from datas_api.dashboard.views import LoginNeeded, forbidden, render, to_login, viewer
from datas_api.deps import SessionDep
from datas_core.db.models import Site

router = APIRouter()
SITES_SHOWN = 200


@router.get("/admin")
def admin_page(request: Request, session: SessionDep) -> Response:
    try:
        who = viewer(request, session)
    except LoginNeeded as need:
        return to_login(request, need)
    if who.role != "admin":
        return forbidden(request, who)
    rows = session.execute(
        select(Site.site_id, Site.name, Site.active).order_by(Site.site_id).limit(SITES_SHOWN)
    ).all()
    return render(request, "admin.html", {"title": "Admin", "sites": rows}, who)


@router.get("/forbidden")
def forbidden_page(request: Request, session: SessionDep) -> Response:
    """Where a script goes when the API refused an action for the viewer's role."""
    try:
        who = viewer(request, session)
    except LoginNeeded as need:
        return to_login(request, need)
    return forbidden(request, who)
