"""The bad-input corpus: one file per class of fault found when the API was probed as an
attacker would. Every test runs on SQLite and on PostgreSQL (the `client` fixture)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient


def strict_json(text: str) -> Any:
    """Parse as any other JSON reader would: NaN/Infinity tokens are errors."""

    def refuse(token: str) -> Any:
        raise ValueError(f"invalid JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def assert_json_error(response: Any, *statuses: int) -> dict[str, Any]:
    """A client error that says what to fix, as JSON; never a 500, never plain text."""
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    body = strict_json(response.text)
    assert body["error"] and body["message"], body
    return body


def new_target(client: TestClient, admin: str, name: str = "RR Lyr", **extra: Any) -> int:
    body = {"name": name, "ra_deg": 291.37, "dec_deg": 42.78, **extra}
    r = client.post("/api/v1/targets", json=body, headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 201, r.text
    return int(r.json()["target_id"])


def observation(target_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "observation_id": str(uuid.uuid4()),
        "target_id": target_id,
        "site_id": "site-a",
        "observed_at": (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat(),
        "exposure_sec": 30,
        "filter": "V",
        "magnitude": 12.3,
        "mag_error": 0.02,
        **extra,
    }


def raw_post(client: TestClient, path: str, text: str, key: str, method: str = "POST") -> Any:
    """Send a body exactly as written (json= would refuse NaN or re-encode it)."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return client.request(method, path, content=text.encode(), headers=headers)
