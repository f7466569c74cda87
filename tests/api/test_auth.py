"""Keys, roles, site binding, revocation, last-used time, and human login with a cookie."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from fastapi.testclient import TestClient

from datas_api.app import create_app
from tests.api.conftest import SAME_ORIGIN, Keys, bearer


def _obs(site_id: str, target_id: int) -> dict:
    return {
        "observation_id": str(uuid.uuid4()),
        "target_id": target_id,
        "site_id": site_id,
        "observed_at": datetime.now(timezone.utc).isoformat(),
        "filter": "V",
        "magnitude": 12.3,
        "mag_error": 0.02,
    }


def _target(client: TestClient, keys: Keys, name: str = "RR Lyr") -> int:
    r = client.post(
        "/api/v1/targets",
        json={"name": name, "ra_deg": 291.3662, "dec_deg": 42.7844},
        headers=bearer(keys.admin),
    )
    assert r.status_code == 201, r.text
    return r.json()["target_id"]


def test_no_key_and_wrong_key_are_401_with_json(client: TestClient, keys: Keys) -> None:
    r = client.get("/api/v1/sites")
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"
    assert "Authorization: Bearer" in r.json()["message"]
    for bad in ("nonsense", keys.admin[:-3] + "xyz", "datas_deadbeef0000_secret"):
        r = client.get("/api/v1/sites", headers=bearer(bad))
        assert r.status_code == 401, bad
    r = client.get("/api/v1/sites", headers={"Authorization": f"Basic {keys.admin}"})
    assert r.status_code == 401


def test_roles(client: TestClient, keys: Keys) -> None:
    tid = _target(client, keys)
    # reader reads but cannot write
    assert client.get("/api/v1/sites", headers=bearer(keys.reader)).status_code == 200
    r = client.post(
        "/api/v1/targets",
        json={"name": "x", "ra_deg": 1, "dec_deg": 1},
        headers=bearer(keys.reader),
    )
    assert r.status_code == 403 and "admin" in r.json()["message"]
    r = client.post("/api/v1/observations", json=_obs("site-a", tid), headers=bearer(keys.reader))
    assert r.status_code == 403
    # broker may post alerts, not observations
    alert = {"feed": "ztf", "alert_id": "1", "ra_deg": 10.0, "dec_deg": 20.0}
    assert client.post("/api/v1/alerts", json=alert, headers=bearer(keys.broker)).status_code == 201
    assert client.post("/api/v1/alerts", json=alert, headers=bearer(keys.site_a)).status_code == 403
    # only admin creates keys
    r = client.post("/api/v1/keys", json={"role": "reader"}, headers=bearer(keys.reader))
    assert r.status_code == 403


def test_site_key_writes_only_its_own_site(client: TestClient, keys: Keys) -> None:
    tid = _target(client, keys)
    own = _obs("site-a", tid)
    assert (
        client.post("/api/v1/observations", json=own, headers=bearer(keys.site_a)).status_code
        == 201
    )
    foreign = _obs("site-b", tid)
    r = client.post("/api/v1/observations", json=foreign, headers=bearer(keys.site_a))
    assert r.status_code == 403 and "site-a" in r.json()["message"]
    # a mixed batch is refused whole: the own-site record in it is not stored either
    mixed = [_obs("site-a", tid), _obs("site-b", tid)]
    assert (
        client.post("/api/v1/observations", json=mixed, headers=bearer(keys.site_a)).status_code
        == 403
    )
    listed = client.get("/api/v1/observations", headers=bearer(keys.admin)).json()
    assert listed["total"] == 1
    beat = {"state": "ready", "weather": {"safe": True}}
    assert (
        client.put(
            "/api/v1/sites/site-a/heartbeat", json=beat, headers=bearer(keys.site_a)
        ).status_code
        == 200
    )
    assert (
        client.put(
            "/api/v1/sites/site-b/heartbeat", json=beat, headers=bearer(keys.site_a)
        ).status_code
        == 403
    )
    # a site key reads its own ranked list, not another site's
    assert (
        client.get("/api/v1/targets?site_id=site-a", headers=bearer(keys.site_a)).status_code == 200
    )
    assert (
        client.get("/api/v1/targets?site_id=site-b", headers=bearer(keys.site_a)).status_code == 403
    )


def test_key_lifecycle_shown_once_revocable_last_used(client: TestClient, keys: Keys) -> None:
    r = client.post(
        "/api/v1/keys", json={"role": "reader", "name": "ci"}, headers=bearer(keys.admin)
    )
    assert r.status_code == 201
    created = r.json()
    assert created["key"].startswith(f"datas_{created['key_id']}_")
    listed = client.get("/api/v1/keys", headers=bearer(keys.admin)).json()
    entry = next(k for k in listed if k["key_id"] == created["key_id"])
    assert "key" not in entry and entry["last_used_at"] is None
    assert client.get("/api/v1/auth/me", headers=bearer(created["key"])).json()["role"] == "reader"
    listed = client.get("/api/v1/keys", headers=bearer(keys.admin)).json()
    entry = next(k for k in listed if k["key_id"] == created["key_id"])
    assert entry["last_used_at"] is not None
    r = client.delete(f"/api/v1/keys/{created['key_id']}", headers=bearer(keys.admin))
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert client.get("/api/v1/auth/me", headers=bearer(created["key"])).status_code == 401


def test_site_key_needs_existing_site(client: TestClient, keys: Keys) -> None:
    r = client.post("/api/v1/keys", json={"role": "site"}, headers=bearer(keys.admin))
    assert r.status_code == 422 and "site_id" in r.json()["message"]
    r = client.post(
        "/api/v1/keys", json={"role": "site", "site_id": "nowhere"}, headers=bearer(keys.admin)
    )
    assert r.status_code == 422 and "nowhere" in r.json()["message"]


def test_user_login_sets_session_cookie(client: TestClient, keys: Keys) -> None:
    r = client.post(
        "/api/v1/users",
        json={"username": "ada", "password": "correct horse battery", "role": "reader"},
        headers=bearer(keys.admin),
    )
    assert r.status_code == 201 and "password" not in r.text
    r = client.post(
        "/api/v1/users", json={"username": "ada", "password": "x" * 12}, headers=bearer(keys.admin)
    )
    assert r.status_code == 409
    bad = client.post("/api/v1/auth/login", json={"username": "ada", "password": "wrong-password"})
    assert bad.status_code == 401 and "datas_session" not in bad.cookies
    ok = client.post(
        "/api/v1/auth/login", json={"username": "ada", "password": "correct horse battery"}
    )
    assert ok.status_code == 200
    cookie = ok.headers["set-cookie"]
    assert "datas_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["name"] == "ada" and me.json()["kind"] == "user"
    assert client.get("/api/v1/sites").status_code == 200
    assert client.post("/api/v1/auth/logout", headers=SAME_ORIGIN).status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/auth/me").status_code == 401


def test_passwords_are_stored_with_a_slow_salted_hash(client: TestClient, keys: Keys) -> None:
    from sqlalchemy import select

    from datas_core.db.models import ApiKey, User

    client.post(
        "/api/v1/users",
        json={"username": "bob", "password": "same password 1"},
        headers=bearer(keys.admin),
    )
    client.post(
        "/api/v1/users",
        json={"username": "eve", "password": "same password 1"},
        headers=bearer(keys.admin),
    )
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        hashes = list(s.scalars(select(User.password_hash)))
        secrets = list(s.scalars(select(ApiKey.secret_hash)))
    assert len(set(hashes)) == 2 and all(h.startswith("scrypt$") for h in hashes)
    assert all("same password" not in h for h in hashes)
    secret = keys.admin.split("_", 2)[2]  # the secret itself may contain "_"
    assert all(secret not in h for h in secrets)


def test_key_cache_revocation_is_immediate_in_the_same_worker(
    db_url: str, settings_for: Callable[..., Any]
) -> None:
    app = create_app(settings_for(db_url, auth_cache_seconds=60))
    with TestClient(app) as c:
        from datas_core.db import session_scope
        from datas_core.schemas.auth import KeyCreate
        from datas_core.services import auth

        with session_scope(app.state.session_factory) as s:
            admin = auth.create_key(s, KeyCreate(role="admin"))[1]
            reader_row, reader = auth.create_key(s, KeyCreate(role="reader"))
        assert c.get("/api/v1/auth/me", headers=bearer(reader)).status_code == 200
        # Revoked behind the API's back: the cached verification holds for its TTL ...
        with session_scope(app.state.session_factory) as s:
            auth.revoke_key(s, reader_row.key_id)
        assert c.get("/api/v1/auth/me", headers=bearer(reader)).status_code == 200
        # ... while a revocation through the API clears this worker's cache at once.
        with session_scope(app.state.session_factory) as s:
            other_row, other = auth.create_key(s, KeyCreate(role="reader"))
        assert c.get("/api/v1/auth/me", headers=bearer(other)).status_code == 200
        r = c.delete(f"/api/v1/keys/{other_row.key_id}", headers=bearer(admin))
        assert r.status_code == 200
        assert c.get("/api/v1/auth/me", headers=bearer(other)).status_code == 401
        assert c.get("/api/v1/auth/me", headers=bearer(reader)).status_code == 401
