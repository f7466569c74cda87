"""Class 1: NaN and infinities. JSON has no such numbers: Python's parser takes them, PostgreSQL's
jsonb refuses them and a site agent cannot read them back. Refused everywhere on input, in typed
fields and inside free-form ones; nothing the server emits contains them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Keys, bearer
from tests.api.hostile.conftest import (
    assert_json_error,
    new_target,
    raw_post,
    strict_json,
)

TOKENS = ["NaN", "Infinity", "-Infinity"]


@pytest.mark.parametrize("token", TOKENS)
def test_free_form_exposure_hints(client: TestClient, keys: Keys, token: str) -> None:
    """The reproduction: NaN inside exposure_hints was accepted, then served as literal NaN."""
    text = '{"name": "X", "ra_deg": 10, "dec_deg": 20, "exposure_hints": {"V": TOKEN}}'
    text = text.replace("TOKEN", token)
    body = assert_json_error(raw_post(client, "/api/v1/targets", text, keys.admin), 422)
    assert "exposure_hints" in body["message"] and "finite" in body["message"]
    assert client.get("/api/v1/targets", headers=bearer(keys.admin)).json()["total"] == 0


@pytest.mark.parametrize(
    ("path", "method", "template"),
    [
        ("/api/v1/targets", "POST", '{"name": "X", "ra_deg": %s, "dec_deg": 1}'),
        ("/api/v1/targets", "POST", '{"name": "X", "ra_deg": 1, "dec_deg": 1, "priority": %s}'),
        (
            "/api/v1/sites",
            "POST",
            '{"site_id": "zz", "name": "Z", "latitude": 1, '
            '"longitude": 2, "availability": [{"from": %s}]}',
        ),
        ("/api/v1/sites/site-a/heartbeat", "PUT", '{"devices": {"camera": {"temp": %s}}}'),
        ("/api/v1/sites/site-a/heartbeat", "PUT", '{"weather": {"wind_speed_ms": %s}}'),
        ("/api/v1/campaigns", "POST", '{"name": "C", "priority_boost": %s}'),
        (
            "/api/v1/alerts",
            "POST",
            '{"feed": "ztf", "alert_id": "1", "ra_deg": 1, '
            '"dec_deg": 2, "payload": {"magpsf": %s}}',
        ),
    ],
)
@pytest.mark.parametrize("token", TOKENS)
def test_every_json_body(
    client: TestClient, keys: Keys, path: str, method: str, template: str, token: str
) -> None:
    r = raw_post(client, path, template.replace("%s", token), keys.admin, method)
    assert_json_error(r, 422)


@pytest.mark.parametrize("token", TOKENS)
def test_observation_fields_and_comparison_stars(
    client: TestClient, keys: Keys, token: str
) -> None:
    target_id = new_target(client, keys.admin)
    base = (
        '{"observation_id": "6f1c1d2e-0000-4000-8000-000000000001", '
        f'"target_id": {target_id}, '
        '"site_id": "site-a", "observed_at": "2026-01-01T00:00:00Z", '
    )
    for tail in (f'"magnitude": {token}}}', f'"comparison_stars": [{{"mag": {token}}}]}}'):
        r = raw_post(client, "/api/v1/observations", base + tail, keys.site_a)
        assert_json_error(r, 422)
    listed = client.get("/api/v1/observations", headers=bearer(keys.admin))
    assert listed.status_code == 200 and strict_json(listed.text)["total"] == 0


def test_served_list_is_always_valid_json(client: TestClient, keys: Keys) -> None:
    """Whatever is stored, the ranked list a site reads parses with a strict JSON reader."""
    new_target(client, keys.admin, exposure_hints={"V": 30.0, "count": 3})
    r = client.get(
        "/api/v1/targets",
        params={"site_id": "site-a", "at": "2026-01-15T22:00:00Z", "explain": "true"},
        headers=bearer(keys.site_a),
    )
    assert r.status_code == 200
    strict_json(r.text)


def test_wire_json_never_writes_nan() -> None:
    from datas_core.wire_json import finite_or_null, wire_json

    assert strict_json(wire_json({"a": [1.0, float("nan")], "b": float("inf")})) == {
        "a": [1.0, None],
        "b": None,
    }
    assert finite_or_null((1.0, -float("inf"))) == [1.0, None]
