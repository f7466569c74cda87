"""Class 9: values the database or the calendar cannot hold. Each used to answer a plain-text
500 on one backend or both; each is now a JSON 4xx saying what to fix."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Keys, bearer
from tests.api.hostile.conftest import assert_json_error, new_target, observation

HUGE = [2**31, 2**63, 2**64 + 5, 10**30]


@pytest.mark.parametrize("value", HUGE)
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/targets/{v}",
        "/api/v1/campaigns/{v}",
        "/api/v1/lightcurve/{v}",
        "/api/v1/observations?target_id={v}",
        "/api/v1/observations?offset={v}",
        "/api/v1/targets?offset={v}",
        "/api/v1/sites?offset={v}",
        "/api/v1/campaigns?offset={v}",
        "/api/v1/lightcurve/1?offset={v}",
    ],
)
def test_ids_and_offsets_beyond_the_columns(
    client: TestClient, keys: Keys, path: str, value: int
) -> None:
    r = client.get(path.format(v=value), headers=bearer(keys.admin))
    assert_json_error(r, 422)


@pytest.mark.parametrize("value", HUGE)
def test_ids_in_bodies(client: TestClient, keys: Keys, value: int) -> None:
    r = client.post("/api/v1/observations", json=observation(value), headers=bearer(keys.site_a))
    assert_json_error(r, 422)
    r = client.post("/api/v1/campaigns", json={"name": "C"}, headers=bearer(keys.admin))
    campaign = r.json()["campaign_id"]
    r = client.post(
        f"/api/v1/campaigns/{campaign}/targets",
        json={"target_ids": [value]},
        headers=bearer(keys.admin),
    )
    assert_json_error(r, 422)
    r = client.patch(f"/api/v1/targets/{value}", json={"priority": 3}, headers=bearer(keys.admin))
    assert_json_error(r, 422)


@pytest.mark.parametrize(
    "when",
    ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00"],
)
def test_times_that_overflow(client: TestClient, keys: Keys, when: str) -> None:
    r = client.get("/api/v1/observations", params={"after": when}, headers=bearer(keys.admin))
    assert_json_error(r, 422)
    r = client.get(
        "/api/v1/targets", params={"site_id": "site-a", "at": when}, headers=bearer(keys.admin)
    )
    assert_json_error(r, 422)
    r = client.get("/api/v1/lightcurve/1", params={"before": when}, headers=bearer(keys.admin))
    assert_json_error(r, 422)
    body = {"name": "T", "ra_deg": 1, "dec_deg": 2, "t0": when}
    assert_json_error(client.post("/api/v1/targets", json=body, headers=bearer(keys.admin)), 422)


def test_observation_dates_outside_reason(client: TestClient, keys: Keys) -> None:
    target_id = new_target(client, keys.admin)
    now = datetime.now(timezone.utc)
    for when in (datetime(1989, 12, 31, tzinfo=timezone.utc), now + timedelta(days=2)):
        body = observation(target_id, observed_at=when.isoformat())
        r = client.post("/api/v1/observations", json=body, headers=bearer(keys.site_a))
        assert "observed_at" in assert_json_error(r, 422)["message"]
    ok = observation(target_id, observed_at="1995-06-01T00:00:00Z")
    assert (
        client.post("/api/v1/observations", json=ok, headers=bearer(keys.site_a)).status_code == 201
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/targets", {"name": "A\x00B", "ra_deg": 1, "dec_deg": 2}),
        ("POST", "/api/v1/targets", {"name": "A", "ra_deg": 1, "dec_deg": 2, "notes": "\x00"}),
        (
            "POST",
            "/api/v1/sites",
            {"site_id": "nn", "name": "N\x00", "latitude": 1, "longitude": 2},
        ),
        ("PUT", "/api/v1/sites/site-a/heartbeat", {"message": "x\x00y"}),
        ("PUT", "/api/v1/sites/site-a/heartbeat", {"devices": {"cam\x00": 1}}),
        ("POST", "/api/v1/campaigns", {"name": "C\x00"}),
        ("POST", "/api/v1/alerts", {"feed": "ztf", "alert_id": "a\x00", "ra_deg": 1, "dec_deg": 2}),
        ("POST", "/api/v1/keys", {"role": "reader", "name": "k\x00"}),
        ("POST", "/api/v1/users", {"username": "u", "password": "0123456789\x00"}),
    ],
)
def test_nul_characters_in_bodies(
    client: TestClient, keys: Keys, method: str, path: str, body: dict[str, object]
) -> None:
    r = client.request(method, path, json=body, headers=bearer(keys.admin))
    assert "NUL" in assert_json_error(r, 422)["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sites/site%00a",
        "/api/v1/frames/ab%00cd",
        "/api/v1/targets?q=a%00b",
        "/api/v1/observations?site_id=%00",
        "/api/v1/campaigns/1?x=%00",
    ],
)
def test_nul_characters_in_urls(client: TestClient, keys: Keys, path: str) -> None:
    r = client.get(path, headers=bearer(keys.admin))
    assert "NUL" in assert_json_error(r, 400)["message"]


def test_nul_in_a_frame_form_field(client: TestClient, keys: Keys) -> None:
    r = client.post(
        "/api/v1/frames",
        files={"file": ("f.fits", b"SIMPLE  =                    T" + b" " * 2850)},
        data={"site_id": "site-a\x00"},
        headers=bearer(keys.site_a),
    )
    assert_json_error(r, 403, 422)
