"""The web dashboard: server-rendered pages (Jinja2) with small local scripts, behind the
dashboard login. Mounted by `datas_api.app` with `app.include_router(dashboard.router)`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from datas_api.dashboard import admin, assets, pages

router = APIRouter(prefix="/dashboard", include_in_schema=False)


@router.get("")
def home() -> RedirectResponse:
    return RedirectResponse("/dashboard/network", status_code=303)


router.include_router(assets.router)
router.include_router(pages.router)
router.include_router(admin.router)

__all__ = ["router"]
