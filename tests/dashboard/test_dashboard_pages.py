"""The dashboard's pages and the site update endpoint on SQLite and PostgreSQL (in process):
what each page must hold, fragments, logins, roles, escaping, and local assets only."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from datas_api.app import create_app
from tests.dashboard.seed import ADMIN, HOSTILE_NAME, READER, Seeded, seed

SAME_ORIGIN = {"Origin": "http://testserver"}
DASHBOARD = Path(__file__).resolve().parents[2] / "datas_api" / "dashboard"


@pytest.fixture
def seeded_app(
    db_url: str, settings_for: Callable[..., Any]
) -> Iterator[tuple[TestClient, Seeded]]:
    seeded = seed(db_url)
    with TestClient(create_app(settings_for(db_url))) as client:
        yield client, seeded


def _login(client: TestClient, who: tuple[str, str]) -> None:
    r = client.post(
        "/api/v1/auth/login", json={"username": who[0], "password": who[1]}, headers=SAME_ORIGIN
    )
    assert r.status_code == 200, r.text


def _pages(s: Seeded) -> list[str]:
    return [
        "/dashboard/network",
        "/dashboard/sites/night-obs",
        "/dashboard/sites/new-obs",
        "/dashboard/observations",
        "/dashboard/observations?site=night-obs&day=2001-01-01",
        "/dashboard/campaigns",
        f"/dashboard/campaigns/{s.campaign_id}",
        "/dashboard/targets?q=Test",
        f"/dashboard/targets/{s.variable_id}",
        f"/dashboard/targets/{s.lonely_id}",
        f"/dashboard/targets/{s.hostile_id}?sites=night-obs,wet-obs",
        "/dashboard/quality?days=3",
        "/dashboard/alerts",
    ]


def test_every_page_and_its_refresh_render_for_a_reader(
    seeded_app: tuple[TestClient, Seeded],
) -> None:
    client, s = seeded_app
    _login(client, READER)
    for path in _pages(s):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert page.headers["cache-control"] == "no-store"
        assert page.text.startswith("<!doctype html>") and 'id="live"' in page.text
        joiner = "&" if "?" in path else "?"
        part = client.get(f"{path}{joiner}fragment=1")
        assert part.status_code == 200 and "<html" not in part.text, path
    network = client.get("/dashboard/network").text
    assert network.count('class="site st-') == len(s.site_ids)
    assert 'href="/docs"' in network


def test_pages_need_a_login_and_refreshes_say_401(seeded_app: tuple[TestClient, Seeded]) -> None:
    client, _ = seeded_app
    r = client.get("/dashboard/sites/night-obs?x=1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/dashboard/login?next=%2Fdashboard%2Fsites%2Fnight-obs%3Fx%3D1"
    assert client.get("/dashboard/network?fragment=1").status_code == 401
    client.cookies.set("datas_session", "not-a-session")
    r = client.get("/dashboard/network", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("&expired=1")
    login = client.get("/dashboard/login?next=//evil.example/x&expired=1")
    assert "Your session has expired" in login.text and "evil.example" not in login.text
    assert client.get("/dashboard", follow_redirects=False).headers["location"] == (
        "/dashboard/network"
    )


def test_readers_get_the_403_page_and_unknown_things_a_404_page(
    seeded_app: tuple[TestClient, Seeded],
) -> None:
    client, _ = seeded_app
    _login(client, READER)
    r = client.get("/dashboard/admin")
    assert r.status_code == 403 and "Nothing was changed" in r.text
    assert "site-active" not in client.get("/dashboard/sites/night-obs").text
    for path in (
        "/dashboard/sites/nope",
        "/dashboard/targets/999999",
        "/dashboard/targets/x",
        "/dashboard/campaigns/77",
        "/dashboard/frames/nope",
    ):
        r = client.get(path)
        assert r.status_code == 404 and "<html" in r.text, path
    _login(client, ADMIN)
    assert client.get("/dashboard/admin").status_code == 200
    assert "site-active" in client.get("/dashboard/sites/night-obs").text


def test_html_in_names_is_escaped_everywhere(seeded_app: tuple[TestClient, Seeded]) -> None:
    client, s = seeded_app
    _login(client, READER)
    for path in (
        f"/dashboard/targets/{s.hostile_id}",
        "/dashboard/observations",
        f"/dashboard/campaigns/{s.campaign_id}",
        "/dashboard/sites/night-obs",
    ):
        text = client.get(path).text
        assert "<script>window.pwned" not in text and "<b>Bold" not in text, path
    text = client.get(f"/dashboard/targets/{s.hostile_id}").text
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;&lt;b&gt;Bold&lt;/b&gt;" in text
    assert HOSTILE_NAME not in text


def test_admins_pause_a_site_and_the_change_is_audited(
    seeded_app: tuple[TestClient, Seeded],
) -> None:
    client, _ = seeded_app
    _login(client, READER)
    r = client.patch("/api/v1/sites/idle-obs", json={"active": False}, headers=SAME_ORIGIN)
    assert r.status_code == 403
    _login(client, ADMIN)
    # A cookie-authenticated write from another origin is refused before the route.
    r = client.patch("/api/v1/sites/idle-obs", json={"active": False})
    assert r.status_code == 403 and r.json()["error"] == "cross_site_request"
    r = client.patch(
        "/api/v1/sites/idle-obs", json={"active": False, "owner": "Ann"}, headers=SAME_ORIGIN
    )
    assert r.status_code == 200, r.text
    assert (r.json()["active"], r.json()["owner"], r.json()["name"]) == (
        False,
        "Ann",
        "Idle Observatory",
    )
    assert client.get("/api/v1/targets?site_id=idle-obs").status_code == 404  # served nothing
    assert 'data-site="idle-obs" data-state="paused"' in client.get("/dashboard/network").text
    bad = client.patch("/api/v1/sites/idle-obs", json={"name": None}, headers=SAME_ORIGIN)
    assert bad.status_code == 422
    clash = client.patch(
        "/api/v1/sites/idle-obs", json={"name": "Wet Observatory"}, headers=SAME_ORIGIN
    )
    assert clash.status_code == 409
    assert client.patch("/api/v1/sites/nope", json={}, headers=SAME_ORIGIN).status_code == 404
    entries = client.get("/api/v1/audit?action=site.update").json()["entries"]
    assert len(entries) == 1 and entries[0]["detail"]["changed"] == {
        "active": False,
        "owner": "Ann",
    }


def test_every_asset_is_local(seeded_app: tuple[TestClient, Seeded]) -> None:
    client, _ = seeded_app
    for path in [*DASHBOARD.glob("templates/*.html"), *DASHBOARD.glob("static/*.*")]:
        text = path.read_text()
        # Only the SVG namespace (an identifier, never fetched) may look like a URL.
        urls = set(re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text)) - {
            "http://www.w3.org"
        }
        assert urls == set(), (path.name, urls)
    land = client.get("/dashboard/static/land.svg")
    assert land.status_code == 200 and land.headers["content-type"] == "image/svg+xml"
    assert 20_000 < len(land.content) < 200_000
    assert (
        client.get("/dashboard/static/plot.js")
        .headers["content-type"]
        .startswith("text/javascript")
    )
    assert client.get("/dashboard/static/..%2Fviews.py").status_code == 404
    assert client.get("/dashboard/static/nothing.js").status_code == 404
