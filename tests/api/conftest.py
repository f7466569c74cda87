"""An API client on each backend, with a key per role and two registered sites."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from datas_api.app import create_app

SITE_A = {
    "site_id": "site-a",
    "name": "Ondrejov 65cm",
    "latitude": 49.9106,
    "longitude": 14.7836,
    "elevation_m": 528,
    "aperture_mm": 650,
    "filters": ["B", "V", "R", "I"],
    "fov_arcmin": 20,
    "limiting_mag": 18,
    "automation_level": "robotic",
    "altitude_limit_deg": 25,
}
SITE_B = {
    **SITE_A,
    "site_id": "site-b",
    "name": "Siding Spring 40cm",
    "latitude": -31.2733,
    "longitude": 149.0644,
    "elevation_m": 1165,
}


@dataclass
class Keys:
    admin: str
    reader: str
    broker: str
    site_a: str
    site_b: str


# What a browser sends with a write from the dashboard's own pages (TestClient's host).
SAME_ORIGIN = {"Origin": "http://testserver"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def client(db_url: str, settings_for: Callable[..., Any]) -> Iterator[TestClient]:
    app = create_app(settings_for(db_url, max_body_bytes=256 * 1024))
    with TestClient(app) as c:
        yield c


@pytest.fixture
def keys(client: TestClient) -> Keys:
    return make_keys(client)


@pytest.fixture
def keys_for() -> Callable[[TestClient], Keys]:
    """Keys for a client a test builds itself (e.g. with its own settings)."""
    return make_keys


def make_keys(client: TestClient) -> Keys:
    from datas_core.db import session_scope
    from datas_core.schemas.auth import KeyCreate
    from datas_core.schemas.sites import SiteCreate
    from datas_core.services import auth, sites

    with session_scope(client.app.state.session_factory) as session:  # type: ignore[attr-defined]
        sites.create_site(session, SiteCreate.model_validate(SITE_A))
        sites.create_site(session, SiteCreate.model_validate(SITE_B))
        made = {
            role: auth.create_key(session, KeyCreate(role=role))[1]
            for role in ("admin", "reader", "broker")
        }
        made["site_a"] = auth.create_key(session, KeyCreate(role="site", site_id="site-a"))[1]
        made["site_b"] = auth.create_key(session, KeyCreate(role="site", site_id="site-b"))[1]
    return Keys(**made)
