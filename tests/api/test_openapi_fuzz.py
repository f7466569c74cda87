"""schemathesis over the whole OpenAPI document, with each role's key and with none, on SQLite and
PostgreSQL: no server errors, and every error is JSON that says what to fix.

Valid and invalid (negative) inputs are generated from the published schema, so a route whose
schema promises more than it accepts, or accepts what it cannot store, fails here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from datas_api.app import create_app
from datas_api.login_gate import LoginGate
from tests.api.conftest import Keys

schemathesis = pytest.importorskip("schemathesis", reason="pip install -e '.[dev]'")

# Examples per operation and role: enough to find a class of fault, small enough for CI.
EXAMPLES = int(os.environ.get("DATAS_FUZZ_EXAMPLES", "12"))
ROLES = ("admin", "reader", "broker", "site_a", None)


def _problems(case: Any, response: Any) -> list[str]:
    label = f"{case.method} {case.formatted_path}"
    status = response.status_code
    if status >= 500:
        return [f"{label} -> {status}: {response.text[:300]}"]
    if status < 400:
        return []
    content_type = response.headers.get("content-type") or [""]  # schemathesis: lists
    if not content_type[0].startswith("application/json"):
        return [f"{label} -> {status} is not JSON: {response.text[:200]}"]
    try:
        body = json.loads(response.text, parse_constant=lambda t: 1 / 0)
    except (ValueError, ZeroDivisionError):
        return [f"{label} -> {status} body is not valid JSON"]
    if not (isinstance(body, dict) and body.get("error") and body.get("message")):
        return [f"{label} -> {status} has no error/message: {response.text[:200]}"]
    return []


def _fuzz(strategy: Any, headers: dict[str, str], problems: list[str]) -> int:
    """Run one operation's examples with one caller's headers; returns how many calls ran."""
    calls = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        nonlocal calls
        merged = {**(case.headers or {}), **headers}
        merged.pop("Cookie", None)
        response = case.call(headers=merged)
        calls += 1
        problems.extend(_problems(case, response))

    run()
    return calls


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_fuzz_every_operation_with_every_role(
    db_url: str, settings_for: Callable[..., Any], keys_for: Callable[[TestClient], Keys], mode: str
) -> None:
    app = create_app(settings_for(db_url, max_body_bytes=256 * 1024))
    # Refused logins are held back 0.25 s each (a flood's pace); the fuzz sends many of them.
    app.state.login_gate = LoginGate(2, refusal_pause=0)
    with TestClient(app) as client:
        keys = keys_for(client)
        config = schemathesis.config.SchemathesisConfig()
        config.projects.default.generation.update(
            modes=[schemathesis.GenerationMode(mode)], max_examples=EXAMPLES
        )
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
        operations = [op.ok() for op in schema.get_all_operations()]
        assert len(operations) >= 20, "the OpenAPI document lost operations"
        problems: list[str] = []
        calls = 0
        for operation in operations:
            # Logging out would end nothing here (keys), but revoking keys would end the run.
            if operation.method.upper() == "DELETE":
                continue
            strategy = operation.as_strategy()
            for role in ROLES:
                headers = {"Authorization": f"Bearer {getattr(keys, role)}"} if role else {}
                seen = _fuzz(strategy, headers, problems)
                calls += seen
        assert calls > len(operations) * len(ROLES)
        assert problems == [], f"{len(problems)} of {calls} calls:\n" + "\n".join(problems[:15])
