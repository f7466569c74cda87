"""`POST /api/v1/sites` without site_id: a unique slug is made from the name."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import Keys, bearer


def test_site_id_defaults_to_a_unique_slug(client: TestClient, keys: Keys) -> None:
    body = {"name": "Mt. John 1.0m (Ondřejov)", "latitude": -43.98, "longitude": 170.46}
    first = client.post("/api/v1/sites", json=body, headers=bearer(keys.admin))
    assert first.status_code == 201, first.text
    assert first.json()["site_id"] == "mt-john-1-0m-ondrejov"
    second = client.post(
        "/api/v1/sites", json={**body, "name": "Mt John 1.0m Ondrejov"}, headers=bearer(keys.admin)
    )
    assert second.status_code == 201 and second.json()["site_id"] == "mt-john-1-0m-ondrejov-2"
    odd = client.post("/api/v1/sites", json={**body, "name": "★"}, headers=bearer(keys.admin))
    assert odd.status_code == 201 and odd.json()["site_id"] == "site"
    assert client.get("/api/v1/sites/site", headers=bearer(keys.reader)).status_code == 200
