"""API keys (admin), users (admin) and the dashboard login with a session cookie."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from datas_api.auditing import AuditedAdmin, client_address
from datas_api.deps import SESSION_COOKIE, Admin, CurrentPrincipal, SessionDep, SettingsDep
from datas_api.login_gate import LoginGate, login_gate
from datas_core.errors import TooManyRequests, Unauthorized
from datas_core.schemas.auth import (
    KeyCreate,
    KeyCreated,
    KeyOut,
    LoginIn,
    Principal,
    UserCreate,
    UserOut,
)
from datas_core.services import audit, auth, login_throttle
from datas_core.services.login_throttle import Limits


async def _no_store(response: Response) -> None:
    # Answers here hold secrets (a new key) or identities: no browser or proxy may keep them.
    response.headers["Cache-Control"] = "no-store"


router = APIRouter(prefix="/api/v1", tags=["auth"], dependencies=[Depends(_no_store)])


@router.post("/keys", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, session: SessionDep, who: AuditedAdmin) -> Any:
    row, full_key = auth.create_key(session, body)
    detail = {"role": row.role, "site_id": row.site_id, "name": row.name}  # never the secret
    audit.record(session, who.actor, "key.create", "api_key", row.key_id, detail, who.source)
    session.commit()
    return {**KeyOut.model_validate(row).model_dump(), "key": full_key}


@router.get("/keys", response_model=list[KeyOut])
def list_keys(session: SessionDep, _: Admin, include_revoked: bool = False) -> Any:
    return auth.list_keys(session, include_revoked)


@router.delete("/keys/{key_id}", response_model=KeyOut)
def revoke_key(key_id: str, request: Request, session: SessionDep, who: AuditedAdmin) -> Any:
    row = auth.revoke_key(session, key_id)
    detail = {"role": row.role, "site_id": row.site_id, "name": row.name}
    audit.record(session, who.actor, "key.revoke", "api_key", row.key_id, detail, who.source)
    request.app.state.key_cache.invalidate()  # this worker at once; others within the TTL
    session.commit()
    return row


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: SessionDep, who: AuditedAdmin) -> Any:
    user = auth.create_user(session, body)
    detail = {"username": user.username, "role": user.role}  # never the password
    audit.record(session, who.actor, "user.create", "user", user.user_id, detail, who.source)
    session.commit()
    return user


def _refuse_if_throttled(
    factory: sessionmaker[Session], username: str, address: str, gate: LoginGate, limits: Limits
) -> None:
    now = datetime.now(timezone.utc)
    with factory() as session:  # short: no connection is held while waiting for a slot
        login_throttle.check(session, username, address, now, limits, gate.recent_blocks)


def _login_committed(
    factory: sessionmaker[Session], body: LoginIn, lifetime: timedelta, address: str, limits: Limits
) -> tuple[Principal, str]:
    with factory() as session:
        user, token = auth.login(session, body.username, body.password, lifetime, address, limits)
        session.commit()
        principal = Principal(kind="user", id=str(user.user_id), role=user.role, name=user.username)  # type: ignore[arg-type]
    return principal, token


@router.post(
    "/auth/login",
    response_model=Principal,
    responses={429: {"description": "too many failed logins, or too many at once (Retry-After)"}},
)
async def login(body: LoginIn, request: Request, response: Response, settings: SettingsDep) -> Any:
    # async, with its own short sessions: waiting for a hashing slot holds no thread and no
    # connection, and a refused try costs no thread at all.
    lifetime = timedelta(hours=settings.session_hours)
    address = client_address(request)
    limits = Limits(settings.login_max_failures, settings.login_window_seconds)
    gate = login_gate(request)
    factory = request.app.state.session_factory
    # Throttled tries are refused before queueing for a slot, and never hashed.
    try:
        gate.recent_blocks.refuse_if_blocked(body.username, address, datetime.now(timezone.utc))
        await run_in_threadpool(_refuse_if_throttled, factory, body.username, address, gate, limits)
    except TooManyRequests:
        await gate.pause_refusal()
        raise
    principal, token = await gate.run(_login_committed, factory, body, lifetime, address, limits)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    return principal


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    request: Request,
    response: Response,
    session: SessionDep,
    everywhere: Annotated[
        bool, Query(description="end every session of this user, not only this one")
    ] = False,
) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if everywhere:
        if not token:
            raise Unauthorized("log in first: 'everywhere' ends the sessions of the logged-in user")
        user = auth.authenticate_session(session, token)
        ended = auth.logout_everywhere(session, int(user.id))
        audit.record(
            session,
            audit.Actor.of(user),
            "user.logout_everywhere",
            "user",
            user.id,
            {"sessions_ended": ended},
            client_address(request),
        )
        session.commit()
    elif token:
        auth.logout(session, token)
        session.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", response_model=Principal)
def me(principal: CurrentPrincipal) -> Any:
    return principal
