"""Observation ingest: single or batch, idempotent replays, validation that loses nothing."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Keys, bearer


@pytest.fixture
def target_id(client: TestClient, keys: Keys) -> int:
    r = client.post(
        "/api/v1/targets",
        json={
            "name": "delta Cep",
            "ra_deg": 337.2925,
            "dec_deg": 58.4152,
            "target_type": "variable_star",
        },
        headers=bearer(keys.admin),
    )
    return r.json()["target_id"]


def obs(target_id: int, site_id: str = "site-a", **extra: object) -> dict:
    record = {
        "observation_id": str(uuid.uuid4()),
        "target_id": target_id,
        "site_id": site_id,
        "observed_at": "2026-11-20T21:15:03.250+01:00",
        "exposure_sec": 30,
        "filter": "V",
        "airmass": 1.21,
        "magnitude": 4.07,
        "mag_error": 0.012,
        "comparison_stars": [{"name": "zeta Cep", "mag": 3.35}],
        "quality_flags": [],
    }
    record.update(extra)
    return record


def count(client: TestClient, keys: Keys) -> int:
    return client.get("/api/v1/observations", headers=bearer(keys.admin)).json()["total"]


def test_single_record_and_idempotent_replay(
    client: TestClient, keys: Keys, target_id: int
) -> None:
    record = obs(target_id)
    first = client.post("/api/v1/observations", json=record, headers=bearer(keys.site_a))
    assert first.status_code == 201, first.text
    stored = first.json()
    assert stored["observed_at"].startswith("2026-11-20T20:15:03.25")  # normalized to UTC
    replay = client.post("/api/v1/observations", json=record, headers=bearer(keys.site_a))
    assert replay.status_code == 200
    assert replay.json() == stored
    assert count(client, keys) == 1


def test_batch_with_replays_counts_created_and_replayed(
    client: TestClient, keys: Keys, target_id: int
) -> None:
    batch = [obs(target_id, observed_at=f"2026-11-20T2{i}:00:00Z") for i in range(3)]
    r = client.post("/api/v1/observations", json=batch, headers=bearer(keys.site_a))
    assert r.status_code == 201 and r.json()["created"] == 3
    wrapped = {"observations": [*batch, obs(target_id)]}
    r = client.post("/api/v1/observations", json=wrapped, headers=bearer(keys.site_a))
    assert r.status_code == 201
    assert (r.json()["created"], r.json()["replayed"]) == (1, 3)
    assert [o["observation_id"] for o in r.json()["observations"]] == [
        o["observation_id"] for o in wrapped["observations"]
    ]
    assert count(client, keys) == 4
    r = client.post("/api/v1/observations", json=batch, headers=bearer(keys.site_a))
    assert r.status_code == 200 and r.json()["created"] == 0


def test_replay_with_different_content_is_a_conflict(
    client: TestClient, keys: Keys, target_id: int
) -> None:
    record = obs(target_id)
    client.post("/api/v1/observations", json=record, headers=bearer(keys.site_a))
    changed = {**record, "magnitude": 9.99}
    r = client.post("/api/v1/observations", json=changed, headers=bearer(keys.site_a))
    assert r.status_code == 409 and record["observation_id"] in r.json()["message"]
    stored = client.get("/api/v1/observations", headers=bearer(keys.admin)).json()["observations"]
    assert stored[0]["magnitude"] == 4.07


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"dec_deg": 95.0}, "dec_deg"),
        ({"ra_deg": 360.0}, "ra_deg"),
        ({"magnitude": "bright"}, "magnitude"),
        ({"observed_at": "2026-11-20T21:15:03"}, "timezone"),
        ({"observation_id": "not-a-uuid"}, "observation_id"),
        ({"mag_error": -0.1}, "mag_error"),
        ({"airmass": 0.5}, "airmass"),
        ({"exposre_sec": 30}, "unknown field"),
    ],
)
def test_bad_fields_are_422_and_store_nothing(
    client: TestClient, keys: Keys, target_id: int, change: dict, fragment: str
) -> None:
    good = obs(target_id)
    bad = {**obs(target_id), **change}
    r = client.post("/api/v1/observations", json=[good, bad], headers=bearer(keys.site_a))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid_input"
    assert fragment in body["message"] and "[1]" in body["message"]
    assert count(client, keys) == 0


def test_non_finite_magnitudes_rejected(client: TestClient, keys: Keys, target_id: int) -> None:
    for value in ("NaN", "Infinity", "-Infinity"):
        text = json.dumps(obs(target_id)).replace('"magnitude": 4.07', f'"magnitude": {value}')
        r = client.post(
            "/api/v1/observations",
            content=text,
            headers={**bearer(keys.site_a), "content-type": "application/json"},
        )
        assert r.status_code == 422, value
        assert "magnitude" in r.json()["message"]
    assert count(client, keys) == 0


def test_unknown_ids_future_times_and_duplicates_in_request(
    client: TestClient, keys: Keys, target_id: int
) -> None:
    r = client.post("/api/v1/observations", json=obs(target_id + 999), headers=bearer(keys.admin))
    assert r.status_code == 422 and "unknown target_id" in r.json()["message"]
    r = client.post(
        "/api/v1/observations", json=obs(target_id, site_id="nowhere"), headers=bearer(keys.admin)
    )
    assert r.status_code == 422 and "nowhere" in r.json()["message"]
    future = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    r = client.post(
        "/api/v1/observations", json=obs(target_id, observed_at=future), headers=bearer(keys.site_a)
    )
    assert r.status_code == 422 and "future" in r.json()["message"]
    a = obs(target_id)
    b = {**a, "magnitude": 5.0}
    r = client.post("/api/v1/observations", json=[a, b], headers=bearer(keys.site_a))
    assert r.status_code == 422 and "twice" in r.json()["message"]
    assert count(client, keys) == 0


def test_malformed_json_wrong_shape_and_oversized_body(
    client: TestClient, keys: Keys, target_id: int
) -> None:
    headers = {**bearer(keys.site_a), "content-type": "application/json"}
    r = client.post("/api/v1/observations", content='{"observation_id": ', headers=headers)
    assert r.status_code == 422 and "not valid JSON" in r.json()["message"]
    r = client.post("/api/v1/observations", json="hello", headers=bearer(keys.site_a))
    assert r.status_code == 422 and "observation object" in r.json()["message"]
    r = client.post("/api/v1/observations", json=[], headers=bearer(keys.site_a))
    assert r.status_code == 422 and "empty" in r.json()["message"]
    big = [obs(target_id, comparison_stars=["x" * 1000] * 50) for _ in range(10)]  # ~500 kB
    r = client.post("/api/v1/observations", json=big, headers=bearer(keys.site_a))
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"

    def chunks():
        yield b"["
        for i, item in enumerate(big):
            yield (b"," if i else b"") + json.dumps(item).encode()
        yield b"]"

    r = client.post("/api/v1/observations", content=chunks(), headers=headers)
    assert r.status_code == 413
    assert count(client, keys) == 0


def test_listing_filters_and_pagination(client: TestClient, keys: Keys, target_id: int) -> None:
    batch = [obs(target_id, observed_at=f"2026-11-{10 + i:02d}T22:00:00Z") for i in range(7)]
    batch += [obs(target_id, site_id="site-b", observed_at="2026-11-12T10:00:00Z")]
    assert (
        client.post("/api/v1/observations", json=batch, headers=bearer(keys.admin)).status_code
        == 201
    )
    page = client.get(
        "/api/v1/observations?site_id=site-a&limit=3", headers=bearer(keys.reader)
    ).json()
    assert page["total"] == 7 and len(page["observations"]) == 3 and page["next_offset"] == 3
    times = [o["observed_at"] for o in page["observations"]]
    assert times == sorted(times)
    last = client.get(
        "/api/v1/observations?site_id=site-a&limit=3&offset=6", headers=bearer(keys.reader)
    ).json()
    assert len(last["observations"]) == 1 and last["next_offset"] is None
    window = client.get(
        "/api/v1/observations",
        params={
            "target_id": target_id,
            "after": "2026-11-12T00:00:00Z",
            "before": "2026-11-14T00:00:00Z",
        },
        headers=bearer(keys.reader),
    ).json()
    assert window["total"] == 3  # 12th (both sites) and 13th
    r = client.get(
        "/api/v1/observations", params={"after": "2026-11-12T00:00:00"}, headers=bearer(keys.reader)
    )
    assert r.status_code == 422 and "timezone" in r.json()["message"]
