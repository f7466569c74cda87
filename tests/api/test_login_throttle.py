"""Logins: throttled per account and per address (shared by workers), equal work for unknown
users, a bounded number of password checks at once, no-store answers, log out everywhere."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from datas_api.app import create_app
from datas_api.login_gate import LoginGate
from datas_core import security
from datas_core.db.models import LoginFailure, UserSession
from datas_core.errors import TooManyRequests
from tests.api.conftest import bearer

PASSWORD = "correct horse battery"
ORIGIN = {"Origin": "http://testserver"}  # cookie-authenticated writes come from the dashboard


@pytest.fixture
def app(db_url: str, settings_for: Callable[..., Any]) -> Iterator[FastAPI]:
    application = create_app(settings_for(db_url, login_max_failures=3))
    application.state.login_gate = LoginGate(slots=2, refusal_pause=0)  # fast tests
    with TestClient(application):  # runs the lifespan once
        yield application


def _from(app: FastAPI, address: str) -> TestClient:
    """A client at its own address (the throttle counts per address)."""
    return TestClient(app, client=(address, 40000))


def _add_user(app: FastAPI, username: str = "ada", active: bool = True) -> None:
    from datas_core.db import session_scope
    from datas_core.db.models import User
    from datas_core.schemas.auth import UserCreate
    from datas_core.services import auth

    with session_scope(app.state.session_factory) as s:
        auth.create_user(s, UserCreate(username=username, password=PASSWORD, role="admin"))
        if not active:
            s.scalar(select(User).where(User.username == username)).active = False  # type: ignore[union-attr]


def _login(client: TestClient, username: str = "ada", password: str = "wrong password!") -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def _failures(app: FastAPI, **where: str) -> int:
    with app.state.session_factory() as s:
        stmt = select(func.count()).select_from(LoginFailure).filter_by(**where)
        return int(s.scalar(stmt) or 0)


@pytest.fixture
def hash_calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often passwords were hashed or checked (work, not wall time)."""
    calls = {"verify": 0, "hash": 0}
    verify, hash_ = security.verify_password, security.hash_password

    def counting_verify(password: str, stored: str) -> bool:
        calls["verify"] += 1
        return verify(password, stored)

    def counting_hash(password: str) -> str:
        calls["hash"] += 1
        return hash_(password)

    monkeypatch.setattr(security, "verify_password", counting_verify)
    monkeypatch.setattr(security, "hash_password", counting_hash)
    return calls


def _assert_429(r: Any, what: str) -> int:
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["error"] == "too_many_requests" and what in body["message"]
    assert body["details"] == []
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= 300
    return retry


def test_account_is_throttled_across_addresses(app: FastAPI, hash_calls: dict[str, int]) -> None:
    _add_user(app)
    hash_calls.update(verify=0, hash=0)
    for n in range(3):
        assert _login(_from(app, f"10.0.0.{n}")).status_code == 401
    assert hash_calls["verify"] == 3
    # A fourth address, even with the right password: the account waits out the window ...
    r = _login(_from(app, "10.0.0.9"), password=PASSWORD)
    _assert_429(r, "this account")
    assert "datas_session" not in r.cookies
    # ... and the refused try hashed nothing and was not counted.
    assert hash_calls["verify"] == 3 and hash_calls["hash"] == 0
    assert _failures(app, username="ada") == 3
    # Other accounts are not affected.
    _add_user(app, "bob")
    assert _login(_from(app, "10.0.0.9"), "bob", PASSWORD).status_code == 200


def test_address_is_throttled_across_accounts(app: FastAPI, hash_calls: dict[str, int]) -> None:
    _add_user(app)
    hash_calls.update(verify=0, hash=0)
    guesser = _from(app, "192.0.2.7")
    for name in ("alice", "ada", "root"):
        assert _login(guesser, name).status_code == 401
    _assert_429(_login(guesser, "ada", PASSWORD), "your address")
    _assert_429(_login(guesser, "someone-else"), "your address")
    assert hash_calls["verify"] == 3
    # The account itself has only one failure: from elsewhere its owner logs in.
    assert _login(_from(app, "198.51.100.1"), password=PASSWORD).status_code == 200


def test_success_clears_the_account_counter(app: FastAPI) -> None:
    _add_user(app)
    assert _login(_from(app, "10.0.1.1")).status_code == 401
    assert _login(_from(app, "10.0.1.1")).status_code == 401
    assert _login(_from(app, "10.0.1.2"), password=PASSWORD).status_code == 200
    assert _failures(app, username="ada") == 0
    # Two more mistakes are two, not four: still answered 401, not 429.
    assert _login(_from(app, "10.0.1.3")).status_code == 401
    assert _login(_from(app, "10.0.1.3")).status_code == 401
    # The address's count is kept: a valid login must not reset guesses made from there.
    assert _failures(app, address="10.0.1.1") == 2


def test_failures_are_shared_by_workers(
    app: FastAPI, db_url: str, settings_for: Callable[..., Any]
) -> None:
    _add_user(app)
    for n in range(3):
        assert _login(_from(app, f"10.0.2.{n}")).status_code == 401
    other_worker = create_app(settings_for(db_url, login_max_failures=3))
    with TestClient(other_worker, client=("10.0.2.99", 1)) as c:
        _assert_429(_login(c, password=PASSWORD), "this account")


def test_unknown_and_known_users_cost_the_same(app: FastAPI, hash_calls: dict[str, int]) -> None:
    _add_user(app)
    _add_user(app, "gone", active=False)
    for n, (username, password) in enumerate(
        [("ada", "wrong password!"), ("nobody", "wrong password!"), ("gone", PASSWORD)]
    ):
        before = dict(hash_calls)
        assert _login(_from(app, f"10.0.3.{n}"), username, password).status_code == 401
        # exactly one password check, and no hashing of a fresh dummy
        assert hash_calls["verify"] - before["verify"] == 1, username
        assert hash_calls["hash"] == before["hash"], username


def test_old_failures_are_pruned_and_forgotten(app: FastAPI) -> None:
    from datetime import datetime, timedelta, timezone

    _add_user(app)
    long_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    with app.state.session_factory() as s:
        s.add_all(
            LoginFailure(username="ada", address="10.0.4.1", failed_at=long_ago) for _ in range(5)
        )
        s.commit()
    assert _login(_from(app, "10.0.4.1")).status_code == 401  # old ones do not count ...
    assert _failures(app) == 1  # ... and recording a new one removed them


def test_login_gate_bounds_concurrent_checks() -> None:
    gate = LoginGate(slots=1, wait_seconds=0.05)
    release = threading.Event()
    running = threading.Event()

    def busy() -> str:
        running.set()
        release.wait(5)
        return "done"

    async def scenario() -> None:
        first = asyncio.ensure_future(gate.run(busy))
        while not running.is_set():
            await asyncio.sleep(0.01)
        with pytest.raises(TooManyRequests) as refused:
            await gate.run(lambda: "never runs")
        assert refused.value.retry_after_seconds >= 1
        release.set()
        assert await first == "done"
        assert await gate.run(lambda: "free again") == "free again"

    asyncio.run(scenario())


def test_auth_answers_are_not_stored(app: FastAPI) -> None:
    _add_user(app)
    c = _from(app, "10.0.5.1")
    ok = _login(c, password=PASSWORD)
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"
    me = c.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.headers["Cache-Control"] == "no-store"
    out = c.post("/api/v1/auth/logout", headers=ORIGIN)
    assert out.status_code == 204 and out.headers["Cache-Control"] == "no-store"
    from tests.api.conftest import make_keys

    admin = make_keys(c).admin
    made = c.post("/api/v1/keys", json={"role": "reader"}, headers=bearer(admin))
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"


def test_logout_everywhere_ends_every_session_of_that_user(app: FastAPI) -> None:
    _add_user(app)
    _add_user(app, "bob")
    laptop, phone, bobs = (_from(app, f"10.0.6.{n}") for n in range(3))
    assert _login(laptop, password=PASSWORD).status_code == 200
    assert _login(phone, password=PASSWORD).status_code == 200
    assert _login(bobs, "bob", PASSWORD).status_code == 200
    r = laptop.post("/api/v1/auth/logout?everywhere=true", headers=ORIGIN)
    assert r.status_code == 204 and r.headers["Cache-Control"] == "no-store"
    laptop.cookies.clear()
    assert phone.get("/api/v1/auth/me").status_code == 401  # the other device is out too
    assert bobs.get("/api/v1/auth/me").json()["name"] == "bob"  # other users are not
    with app.state.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(UserSession)) == 1
    # Without a session there is nobody to log out everywhere.
    r = _from(app, "10.0.6.9").post("/api/v1/auth/logout?everywhere=true")
    assert r.status_code == 401


def test_recent_blocks_end_when_they_said_and_stay_bounded() -> None:
    from datetime import datetime, timedelta, timezone

    from datas_core.services.login_throttle import RecentBlocks

    now = datetime.now(timezone.utc)
    blocks = RecentBlocks(max_entries=3)
    blocks.remember("this account", "ada", now + timedelta(seconds=30))
    with pytest.raises(TooManyRequests) as refused:
        blocks.refuse_if_blocked("ada", "10.0.7.1", now)
    assert refused.value.retry_after_seconds == 30 and "this account" in refused.value.message
    blocks.refuse_if_blocked("bob", "10.0.7.1", now)  # others pass
    blocks.refuse_if_blocked("ada", "10.0.7.1", now + timedelta(seconds=31))  # over
    for n in range(10):  # never more than max_entries remembered
        blocks.remember("your address", f"10.0.8.{n}", now + timedelta(seconds=60))
    assert len(blocks._until) <= 3
