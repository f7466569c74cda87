"""Class 5: deeply nested or oversized free-form JSON. 255 levels in `comparison_stars` or a
heartbeat's `devices` used to be committed and then broke every read that held it (500 for
everyone). Free-form fields are bounded in depth and size on input; nothing unreadable is stored."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from datas_core.schemas.common import MAX_JSON_DEPTH, MAX_JSON_VALUES
from tests.api.conftest import Keys, bearer
from tests.api.hostile.conftest import assert_json_error, new_target, observation, raw_post


def nested(levels: int) -> object:
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 255, 5000])
def test_comparison_stars_too_deep(client: TestClient, keys: Keys, levels: int) -> None:
    target_id = new_target(client, keys.admin)
    body = json.dumps(observation(target_id, comparison_stars=["DEEP"]))
    text = body.replace('"DEEP"', "[" * levels + "1" + "]" * levels)  # json.dumps cannot
    r = raw_post(client, "/api/v1/observations", text, keys.site_a)
    # Python's own parser gives up near 1,000 levels: then the body as a whole is refused.
    body = assert_json_error(r, 400, 422)
    assert "nested deeper" in body["message"] or levels > 255
    page = client.get("/api/v1/observations", headers=bearer(keys.reader))
    assert page.status_code == 200 and page.json()["total"] == 0


def test_comparison_stars_at_the_limit_read_back(client: TestClient, keys: Keys) -> None:
    target_id = new_target(client, keys.admin)
    stars = [{"id": "c1", "path": nested(MAX_JSON_DEPTH - 3)}]
    r = client.post(
        "/api/v1/observations",
        json=observation(target_id, comparison_stars=stars),
        headers=bearer(keys.site_a),
    )
    assert r.status_code == 201, r.text
    page = client.get("/api/v1/observations", headers=bearer(keys.reader))
    assert page.status_code == 200 and page.json()["observations"][0]["comparison_stars"] == stars


@pytest.mark.parametrize("levels", [255, 100_000])
def test_heartbeat_devices_too_deep(client: TestClient, keys: Keys, levels: int) -> None:
    text = json.dumps({"state": "ready", "devices": {"camera": nested(200)}})
    if levels > 255:  # deeper than Python's own parser will go: still a JSON 4xx
        text = '{"devices": {"x": ' + "[" * levels + "]" * levels + "}}"
    r = raw_post(client, "/api/v1/sites/site-a/heartbeat", text, keys.site_a, "PUT")
    assert_json_error(r, 400, 422)
    site = client.get("/api/v1/sites/site-a", headers=bearer(keys.reader))
    assert site.status_code == 200 and site.json()["latest_heartbeat"] is None


def test_too_many_values(client: TestClient, keys: Keys) -> None:
    devices = {"log": list(range(MAX_JSON_VALUES + 1))}
    r = client.put(
        "/api/v1/sites/site-a/heartbeat", json={"devices": devices}, headers=bearer(keys.site_a)
    )
    assert "values" in assert_json_error(r, 422)["message"]


def test_alert_payload_and_site_availability_are_bounded(client: TestClient, keys: Keys) -> None:
    alert = {"feed": "ztf", "alert_id": "a1", "ra_deg": 1, "dec_deg": 2, "payload": nested(40)}
    r = client.post(
        "/api/v1/alerts", json={**alert, "payload": {"x": nested(40)}}, headers=bearer(keys.broker)
    )
    assert_json_error(r, 422)
    site = {
        "site_id": "deep",
        "name": "D",
        "latitude": 1,
        "longitude": 2,
        "availability": [{"x": nested(40)}],
    }
    assert_json_error(client.post("/api/v1/sites", json=site, headers=bearer(keys.admin)), 422)


def test_whole_body_nested_beyond_the_parser(client: TestClient, keys: Keys) -> None:
    text = "[" * 100_000 + "]" * 100_000  # under the test client's 256 KiB body limit
    assert_json_error(raw_post(client, "/api/v1/observations", text, keys.site_a), 400, 422)
