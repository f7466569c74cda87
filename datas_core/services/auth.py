"""API keys (roles, site binding, revocation, last-used) and human users with sessions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from datas_core import security
from datas_core.db.models import ApiKey, Site, User, UserSession
from datas_core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from datas_core.schemas.auth import KeyCreate, Principal, UserCreate
from datas_core.services import login_throttle

WRONG_KEY = (
    "the API key is not valid (wrong, revoked or malformed); "
    "send 'Authorization: Bearer datas_...' with a key from `datas keys create`"
)


def create_key(session: Session, request: KeyCreate) -> tuple[ApiKey, str]:
    """Returns the stored row and the full secret key (the only time it exists in clear)."""
    if request.site_id is not None and session.get(Site, request.site_id) is None:
        raise InvalidInput(
            f"site {request.site_id!r} does not exist; add it first with `datas sites add`"
        )
    full_key, key_id, secret_hash = security.new_api_key()
    row = ApiKey(
        key_id=key_id,
        name=request.name,
        role=request.role,
        site_id=request.site_id,
        secret_hash=secret_hash,
    )
    session.add(row)
    session.flush()
    return row, full_key


def revoke_key(session: Session, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key with key_id {key_id!r}; see `datas keys list`")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(timezone.utc)
        session.flush()
    return row


def list_keys(session: Session, include_revoked: bool = False) -> list[ApiKey]:
    stmt = select(ApiKey).order_by(ApiKey.created_at)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(stmt))


def authenticate_key(
    session: Session, presented: str, touch_every: timedelta = timedelta(minutes=1)
) -> tuple[Principal, bool]:
    """The caller behind a key, and whether its last-used time was updated (needs a commit)."""
    parts = security.split_api_key(presented)
    if parts is None:
        raise Unauthorized(WRONG_KEY)
    key_id, secret = parts
    # Plain column select: this runs on every request, the ORM identity map buys nothing here.
    row = session.execute(
        select(
            ApiKey.role,
            ApiKey.site_id,
            ApiKey.name,
            ApiKey.secret_hash,
            ApiKey.revoked_at,
            ApiKey.last_used_at,
        ).where(ApiKey.key_id == key_id)
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        raise Unauthorized(WRONG_KEY)
    if not security.secret_matches(secret, row.secret_hash):
        raise Unauthorized(WRONG_KEY)
    now = datetime.now(timezone.utc)
    # Writing last-used on every request would serialize readers on SQLite; once a minute is enough.
    touched = row.last_used_at is None or now - row.last_used_at >= touch_every
    if touched:
        session.execute(update(ApiKey).where(ApiKey.key_id == key_id).values(last_used_at=now))
    principal = Principal(kind="key", id=key_id, role=row.role, site_id=row.site_id, name=row.name)
    return principal, touched


def create_user(session: Session, request: UserCreate) -> User:
    if session.scalar(select(User.user_id).where(User.username == request.username)):
        raise Conflict(f"user {request.username!r} already exists")
    user = User(
        username=request.username,
        password_hash=security.hash_password(request.password),
        role=request.role,
    )
    session.add(user)
    session.flush()
    return user


def login(
    session: Session,
    username: str,
    password: str,
    lifetime: timedelta,
    address: str = "unknown",
    limits: login_throttle.Limits | None = None,
) -> tuple[User, str]:
    """Check a password; returns the user and a new session token for the cookie.

    Throttled attempts are refused before hashing. A failure is committed at once (the caller's
    rollback must not erase it). Known and unknown usernames cost exactly one hash check each,
    so timing does not reveal which usernames exist.
    """
    limits = limits or login_throttle.Limits()
    now = datetime.now(timezone.utc)
    login_throttle.check(session, username, address, now, limits)
    user = session.scalar(select(User).where(User.username == username))
    stored = user.password_hash if user else security.DUMMY_PASSWORD_HASH
    if not security.verify_password(password, stored) or user is None or not user.active:
        login_throttle.record_failure(session, username, address, now, limits)
        session.commit()
        raise Unauthorized("wrong username or password")
    login_throttle.clear_account(session, username)
    token, token_hash = security.new_session_token()
    session.add(UserSession(token_hash=token_hash, user_id=user.user_id, expires_at=now + lifetime))
    user.last_login_at = now
    session.execute(delete(UserSession).where(UserSession.expires_at < now))
    session.flush()
    return user, token


def authenticate_session(session: Session, token: str) -> Principal:
    row = session.get(UserSession, security.digest(token))
    now = datetime.now(timezone.utc)
    if row is None or row.expires_at < now:
        raise Unauthorized("your session has expired; log in again")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise Unauthorized("this account is disabled")
    return Principal(kind="user", id=str(user.user_id), role=user.role, name=user.username)


def logout(session: Session, token: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == security.digest(token)))


def logout_everywhere(session: Session, user_id: int) -> int:
    """End every session of a user (a lost laptop, a leaked cookie); returns how many."""
    result = session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
