"""Class 10: defenses a browser-facing API needs: security headers, offline /docs, a health page
that tells strangers nothing about storage, cookie writes only from our own pages, no echoed
passwords, CSV cells a spreadsheet will not execute, no partial uploads left behind."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from datas_api.app import create_app
from tests.api.conftest import SAME_ORIGIN, Keys, bearer
from tests.api.hostile.conftest import assert_json_error, new_target, observation

USER = {"username": "ada", "password": "correct horse battery"}


def login(client: TestClient, keys: Keys) -> None:
    r = client.post("/api/v1/users", json={**USER, "role": "admin"}, headers=bearer(keys.admin))
    assert r.status_code == 201, r.text
    assert client.post("/api/v1/auth/login", json=USER).status_code == 200


def test_security_headers_everywhere(client: TestClient, keys: Keys) -> None:
    for path in ("/healthz", "/api/v1/sites", "/docs", "/api/v1/nowhere"):
        r = client.get(path, headers=bearer(keys.reader))
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    login(client, keys)
    me = client.get("/api/v1/auth/me")
    assert me.headers["cache-control"] == "no-store"
    made = client.post("/api/v1/keys", json={"role": "reader"}, headers=bearer(keys.admin))
    assert made.headers["cache-control"] == "no-store"


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert (
        "cdn" not in page.text.lower()
        and "http://" not in page.text.replace("http://testserver", "")
        and "https://" not in page.text
    )
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        r = client.get(f"/docs-assets/{asset}")
        assert r.status_code == 200 and len(r.content) > 10_000
    assert client.get("/redoc").status_code == 404


def test_health_does_not_show_where_objects_live(client: TestClient, tmp_path: Path) -> None:
    body = client.get("/healthz").json()
    assert body["storage"] == "local" and str(tmp_path) not in str(body)


def test_cookie_writes_need_our_own_origin(client: TestClient, keys: Keys) -> None:
    login(client, keys)
    target = {"name": "Cookie target", "ra_deg": 1, "dec_deg": 2}
    for headers in ({"Origin": "https://evil.example"}, {}, {"Referer": "https://evil.example/x"}):
        r = client.post("/api/v1/targets", json=target, headers=headers)
        assert_json_error(r, 403)
    frame = client.post(
        "/api/v1/frames",
        files={"file": ("f.fits", b"x" * 100)},
        data={"site_id": "site-a"},
        headers={"Origin": "https://evil.example"},
    )
    assert_json_error(frame, 403)
    listed = client.get("/api/v1/targets", headers=bearer(keys.admin)).json()
    assert listed["total"] == 0
    ok = client.post("/api/v1/targets", json=target, headers=SAME_ORIGIN)
    assert ok.status_code == 201
    # An API key needs no origin: scripts are not browsers.
    keyed = client.post(
        "/api/v1/targets",
        json={**target, "name": "Key target"},
        headers={**bearer(keys.admin), "Origin": "https://elsewhere.example"},
    )
    assert keyed.status_code == 201


def test_passwords_are_never_echoed(client: TestClient, keys: Keys) -> None:
    secret = "hunter2-is-my-password"
    bad = [
        ("/api/v1/users", {"username": "x y", "password": secret}),
        ("/api/v1/users", {"username": "ok", "password": secret, "extra": 1}),
        ("/api/v1/users", {"username": "ok", "password": secret + "\x00"}),
        ("/api/v1/auth/login", {"username": "", "password": secret}),
        ("/api/v1/auth/login", {"username": "a", "password": [secret]}),
    ]
    for path, body in bad:
        r = client.post(path, json=body, headers=bearer(keys.admin))
        assert r.status_code in (401, 422), r.text
        assert secret not in r.text


def test_csv_cells_are_not_formulas(client: TestClient, keys: Keys) -> None:
    target_id = new_target(client, keys.admin)
    body = observation(target_id, quality_flags=['=HYPERLINK("http://x")', "ok"])
    assert (
        client.post("/api/v1/observations", json=body, headers=bearer(keys.site_a)).status_code
        == 201
    )
    text = client.get(
        f"/api/v1/lightcurve/{target_id}", params={"format": "csv"}, headers=bearer(keys.reader)
    ).text
    lines = text.strip().splitlines()
    assert len(lines) == 2
    assert "'=HYPERLINK" in lines[1]
    assert "+00:00" not in text  # one time format: the JSON's 'Z'
    assert lines[1].split(",")[lines[0].split(",").index("observed_at")].endswith("Z")


def test_partial_uploads_are_cleaned_at_start(
    db_url: str, settings_for: Any, tmp_path: Path
) -> None:
    settings = settings_for(db_url)
    incoming = settings.objects_dir / ".incoming"
    incoming.mkdir(parents=True)
    old, fresh = incoming / "tmpold", incoming / "tmpfresh"
    old.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"y")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    with TestClient(create_app(settings)):
        pass
    # An upload still being written (recent) may belong to another worker: it stays.
    assert not old.exists() and fresh.exists()
