"""Request-scoped dependencies: database session, caller identity, role checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from datas_core import security
from datas_core.errors import Forbidden, Unauthorized
from datas_core.schemas.auth import Principal
from datas_core.services import auth
from datas_core.settings import Settings

SESSION_COOKIE = "datas_session"


# Dependencies without I/O are `async def`: FastAPI runs sync ones in the thread pool, and each
# hop costs more than the work. Those touching the database stay sync (off the event loop).
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_session(request: Request) -> Iterator[Session]:
    """A session per request. Routes commit explicitly; anything uncommitted is rolled back."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <api key>'")
        token = token.strip()

        def verify() -> Principal:
            principal, touched = auth.authenticate_key(
                session, token, timedelta(seconds=settings.key_touch_seconds)
            )
            if touched:
                session.commit()  # persist the throttled last-used time
            return principal

        # Keyed by the key's hash: the cache never holds a usable secret.
        cache = request.app.state.key_cache
        return cache.get_or_load(security.digest(token), verify)  # type: ignore[no-any-return]
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return auth.authenticate_session(session, cookie)
    raise Unauthorized(
        "this endpoint needs an API key: send 'Authorization: Bearer datas_...' "
        "(create one with `datas keys create --role reader`) or log in at /api/v1/auth/login"
    )


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise Forbidden(
                f"role {principal.role!r} may not do this; it needs one of: {', '.join(roles)}"
            )
        return principal

    return check


Reader = Annotated[Principal, Depends(require("admin", "reader", "site", "broker"))]
Admin = Annotated[Principal, Depends(require("admin"))]
SiteWriter = Annotated[Principal, Depends(require("admin", "site"))]
AlertWriter = Annotated[Principal, Depends(require("admin", "broker"))]


def site_scope(principal: Principal) -> str | None:
    """The only site a site key may write for; None means any site (admin)."""
    return principal.site_id if principal.role == "site" else None
