"""API keys (admin), users (admin) and the dashboard login with a session cookie."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response, status

from datas_api.deps import SESSION_COOKIE, Admin, CurrentPrincipal, SessionDep, SettingsDep
from datas_core.schemas.auth import (
    KeyCreate,
    KeyCreated,
    KeyOut,
    LoginIn,
    Principal,
    UserCreate,
    UserOut,
)
from datas_core.services import auth

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/keys", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, session: SessionDep, _: Admin) -> Any:
    row, full_key = auth.create_key(session, body)
    session.commit()
    return {**KeyOut.model_validate(row).model_dump(), "key": full_key}


@router.get("/keys", response_model=list[KeyOut])
def list_keys(session: SessionDep, _: Admin, include_revoked: bool = False) -> Any:
    return auth.list_keys(session, include_revoked)


@router.delete("/keys/{key_id}", response_model=KeyOut)
def revoke_key(key_id: str, request: Request, session: SessionDep, _: Admin) -> Any:
    row = auth.revoke_key(session, key_id)
    request.app.state.key_cache.invalidate()  # this worker at once; others within the TTL
    session.commit()
    return row


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, session: SessionDep, _: Admin) -> Any:
    user = auth.create_user(session, body)
    session.commit()
    return user


@router.post("/auth/login", response_model=Principal)
def login(body: LoginIn, response: Response, session: SessionDep, settings: SettingsDep) -> Any:
    lifetime = timedelta(hours=settings.session_hours)
    user, token = auth.login(session, body.username, body.password, lifetime)
    session.commit()
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    return Principal(kind="user", id=str(user.user_id), role=user.role, name=user.username)  # type: ignore[arg-type]


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response, session: SessionDep) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        auth.logout(session, token)
        session.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me", response_model=Principal)
def me(principal: CurrentPrincipal) -> Any:
    return principal
