"""The audit log: one entry per admin action (who, what, when, from where), in the same
transaction as the change, never holding secrets, readable by admins only."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import SITE_A, Keys, bearer

PASSWORD = "correct horse battery"


def _key_id(full_key: str) -> str:
    return full_key.split("_", 2)[1]


def _entries(client: TestClient, keys: Keys, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/api/v1/audit", params=params, headers=bearer(keys.admin))
    assert r.status_code == 200, r.text
    return r.json()["entries"]  # type: ignore[no-any-return]


def _ok(r: Any, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return r.json()  # type: ignore[no-any-return]


def test_each_admin_action_leaves_one_entry(client: TestClient, keys: Keys) -> None:
    admin = bearer(keys.admin)
    key = _ok(client.post("/api/v1/keys", json={"role": "reader", "name": "ci"}, headers=admin))
    _ok(client.delete(f"/api/v1/keys/{key['key_id']}", headers=admin), 200)
    user = _ok(
        client.post("/api/v1/users", json={"username": "ada", "password": PASSWORD}, headers=admin)
    )
    site = {**SITE_A, "site_id": "site-c", "name": "Third site"}
    _ok(client.post("/api/v1/sites", json=site, headers=admin))
    target = _ok(
        client.post(
            "/api/v1/targets",
            json={"name": "RR Lyr", "ra_deg": 291.37, "dec_deg": 42.78},
            headers=admin,
        )
    )
    tid = target["target_id"]
    _ok(client.patch(f"/api/v1/targets/{tid}", json={"priority": 9}, headers=admin), 200)
    campaign = _ok(client.post("/api/v1/campaigns", json={"name": "RR Lyrae"}, headers=admin))
    cid = campaign["campaign_id"]
    body = {"target_ids": [tid]}
    _ok(client.post(f"/api/v1/campaigns/{cid}/targets", json=body, headers=admin), 200)

    entries = _entries(client, keys)
    expected = [  # newest first
        ("campaign.add_targets", "campaign", str(cid)),
        ("campaign.create", "campaign", str(cid)),
        ("target.update", "target", str(tid)),
        ("target.create", "target", str(tid)),
        ("site.create", "site", "site-c"),
        ("user.create", "user", str(user["user_id"])),
        ("key.revoke", "api_key", key["key_id"]),
        ("key.create", "api_key", key["key_id"]),
    ]
    assert [(e["action"], e["object_type"], e["object_id"]) for e in entries] == expected
    for e in entries:
        assert e["actor"] == f"key:{_key_id(keys.admin)}" and e["actor_role"] == "admin"
        assert e["source"] == "testclient"  # the client address as the server saw it
        assert datetime.fromisoformat(e["at"]) > datetime.now(timezone.utc) - timedelta(minutes=5)
    by_action = {e["action"]: e["detail"] for e in entries}
    assert by_action["target.update"]["changed"] == {"priority": 9.0}
    assert by_action["campaign.add_targets"] == {"requested": 1, "added": 1, "target_ids": [tid]}
    assert by_action["key.create"] == {"role": "reader", "site_id": None, "name": "ci"}
    # Secrets are never logged: not the key shown once, not the password.
    dumped = json.dumps(entries)
    assert key["key"] not in dumped and key["key"].split("_", 2)[2] not in dumped
    assert PASSWORD not in dumped


def test_failed_actions_leave_no_entry(client: TestClient, keys: Keys) -> None:
    admin = bearer(keys.admin)
    assert client.post("/api/v1/sites", json=SITE_A, headers=admin).status_code == 409
    r = client.post("/api/v1/keys", json={"role": "site", "site_id": "nowhere"}, headers=admin)
    assert r.status_code == 422
    assert client.delete("/api/v1/keys/doesnotexist", headers=admin).status_code == 404
    bad_user = {"username": "x", "password": "short"}
    assert client.post("/api/v1/users", json=bad_user, headers=admin).status_code == 422
    cid = _ok(client.post("/api/v1/campaigns", json={"name": "C"}, headers=admin))["campaign_id"]
    r = client.post(f"/api/v1/campaigns/{cid}/targets", json={"target_ids": [999]}, headers=admin)
    assert r.status_code == 422
    assert (
        client.patch("/api/v1/targets/999", json={"priority": 1}, headers=admin).status_code == 404
    )
    # A reader's refused write is no admin action either.
    r = client.post("/api/v1/sites", json={**SITE_A, "site_id": "z"}, headers=bearer(keys.reader))
    assert r.status_code == 403
    assert [e["action"] for e in _entries(client, keys)] == ["campaign.create"]


def test_entry_rolls_back_with_its_change(client: TestClient) -> None:
    from sqlalchemy import func, select

    from datas_core.db.models import AuditEntry, Site
    from datas_core.schemas.sites import SiteCreate
    from datas_core.services import audit, sites

    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        site = sites.create_site(s, SiteCreate.model_validate({**SITE_A, "site_id": "rolled"}))
        audit.record(s, audit.Actor("cli:test"), "site.create", "site", site.site_id, {}, "cli")
        s.flush()
        s.rollback()  # e.g. a later step of the same change failed
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert s.get(Site, "rolled") is None


def test_only_admins_read_the_log(client: TestClient, keys: Keys) -> None:
    for key in (keys.reader, keys.site_a, keys.broker):
        r = client.get("/api/v1/audit", headers=bearer(key))
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert client.get("/api/v1/audit").status_code == 401
    r = client.get("/api/v1/audit", headers=bearer(keys.admin))
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"


def test_filters_and_pages(client: TestClient, keys: Keys) -> None:
    admin = bearer(keys.admin)
    for n in range(3):
        target = {"name": f"T{n}", "ra_deg": 10.0 + n, "dec_deg": 5.0}
        _ok(client.post("/api/v1/targets", json=target, headers=admin))
    _ok(client.post("/api/v1/campaigns", json={"name": "C"}, headers=admin))
    # a person logged in as admin acts too, under their own name
    with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
        from datas_core.schemas.auth import UserCreate
        from datas_core.services import auth

        auth.create_user(s, UserCreate(username="grace", password=PASSWORD, role="admin"))
        s.commit()
    person = TestClient(client.app, client=("203.0.113.5", 1))
    _ok(person.post("/api/v1/auth/login", json={"username": "grace", "password": PASSWORD}), 200)
    r = person.post(
        "/api/v1/campaigns", json={"name": "D"}, headers={"Origin": "http://testserver"}
    )
    _ok(r)

    page = client.get("/api/v1/audit?limit=2", headers=admin).json()
    assert page["total"] == 5 and len(page["entries"]) == 2 and page["next_offset"] == 2
    rest = client.get("/api/v1/audit?limit=2&offset=4", headers=admin).json()
    assert len(rest["entries"]) == 1 and rest["next_offset"] is None
    assert len(_entries(client, keys, action="target.create")) == 3
    assert len(_entries(client, keys, object_type="campaign")) == 2
    mine = _entries(client, keys, actor="grace")
    assert [(e["actor_name"], e["actor_role"], e["source"]) for e in mine] == [
        ("grace", "admin", "203.0.113.5")
    ]
    assert mine[0]["actor"].startswith("user:")
    assert len(_entries(client, keys, actor=f"key:{_key_id(keys.admin)}")) == 4
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    assert _entries(client, keys, after=future) == []
    assert len(_entries(client, keys, before=future)) == 5
    r = client.get("/api/v1/audit?after=2026-01-01", headers=admin)
    assert r.status_code == 422  # a time needs its timezone


def test_pausing_a_site_is_audited(client: TestClient, keys: Keys) -> None:
    admin = bearer(keys.admin)
    _ok(client.patch("/api/v1/sites/site-a", json={"active": False}, headers=admin), 200)
    assert (
        client.patch("/api/v1/sites/nowhere", json={"active": False}, headers=admin).status_code
        == 404
    )
    entries = _entries(client, keys)
    assert [(e["action"], e["object_id"], e["detail"]) for e in entries] == [
        ("site.update", "site-a", {"changed": {"active": False}})
    ]
