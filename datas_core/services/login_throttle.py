"""Failed-login throttling per account and per client address.

Failures live in the app database (`login_failures`), so every API worker behind the same
database sees the same counts. A throttled attempt is refused before any password is hashed.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import NoReturn

from sqlalchemy import delete, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from datas_core.db.models import LoginFailure
from datas_core.errors import TooManyRequests


@dataclass(frozen=True)
class Limits:
    max_failures: int = 5
    window_seconds: float = 300.0

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_seconds)


class RecentBlocks:
    """Blocks this worker already found in the database, kept until they end, so a flood of
    refused tries costs no query. Safe: failures only age out, so a block ends when it said."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._until: dict[tuple[str, str], datetime] = {}
        self._lock = threading.Lock()  # remembered from pool threads

    def refuse_if_blocked(self, username: str, address: str, now: datetime) -> None:
        for key in (("this account", username), ("your address", _fit(address))):
            until = self._until.get(key)
            if until is not None and until > now:
                _refuse(key[0], math.ceil((until - now).total_seconds()))

    def remember(self, what: str, value: str, until: datetime) -> None:
        with self._lock:
            if len(self._until) >= self.max_entries:
                now = datetime.now(timezone.utc)
                kept = {k: t for k, t in self._until.items() if t > now}
                # Forgetting a block only costs a query per try.
                self._until = kept if len(kept) < self.max_entries else {}
            self._until[(what, value)] = until


def check(
    session: Session,
    username: str,
    address: str,
    now: datetime,
    limits: Limits,
    recent: RecentBlocks | None = None,
) -> None:
    """Raise TooManyRequests if the account or the address has too many recent failures."""
    for column, value, what in (
        (LoginFailure.username, username, "this account"),
        (LoginFailure.address, _fit(address), "your address"),
    ):
        wait = _seconds_until_allowed(session, column, value, now, limits)
        if wait is not None:
            if recent is not None:
                recent.remember(what, value, now + timedelta(seconds=wait))
            _refuse(what, wait)


def _refuse(what: str, wait: int) -> NoReturn:
    raise TooManyRequests(
        f"too many failed logins for {what}; try again in {wait} s", retry_after_seconds=wait
    )


def _seconds_until_allowed(
    session: Session,
    column: InstrumentedAttribute[str | None] | InstrumentedAttribute[str],
    value: str,
    now: datetime,
    limits: Limits,
) -> int | None:
    # The max_failures-th newest failure in the window: once it ages out, fewer than
    # max_failures remain and a try is allowed again.
    blocking = session.scalar(
        select(LoginFailure.failed_at)
        .where(column == value, LoginFailure.failed_at > now - limits.window)
        .order_by(LoginFailure.failed_at.desc())
        .limit(1)
        .offset(limits.max_failures - 1)
    )
    if blocking is None:
        return None
    return max(1, math.ceil((blocking + limits.window - now).total_seconds()))


def record_failure(
    session: Session, username: str, address: str, now: datetime, limits: Limits
) -> None:
    """Count one failure and drop those too old to matter (keeps the table small)."""
    session.add(LoginFailure(username=username, address=_fit(address), failed_at=now))
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - limits.window))
    session.flush()


def clear_account(session: Session, username: str) -> None:
    """A successful login forgets the account's failures. They still count for their addresses:
    the owner's login must not wipe the guesses made against the account from elsewhere."""
    session.execute(
        update(LoginFailure).where(LoginFailure.username == username).values(username=None)
    )


def _fit(address: str) -> str:
    return address[:64] or "unknown"  # the column's size; an IPv6 address needs at most 45
