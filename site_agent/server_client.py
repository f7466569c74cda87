"""Talking to the DATAS server: every call has a deadline; failures are classified.

The classes matter to the uploader: no answer (`ServerUnavailable`) means the server is away and
nothing is any record's fault; a 5xx (`ServerFailed`) may be one record breaking the server; a
4xx (`ServerRejected`) refuses the request; 401/403 (`AuthRefused`) refuses the key itself.
"""

from __future__ import annotations

from typing import Any

import httpx

# A 4xx that says the server read this record and refuses it as it is: resending cannot help.
REFUSED_FOR_GOOD = (400, 409, 413, 422)


class ServerUnavailable(Exception):
    """Network down, timeout, busy (408/429), a 5xx or an answer that is not JSON: try later."""


class ServerFailed(ServerUnavailable):
    """The server answered 5xx: it is in trouble, or one record in the request breaks it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class ServerRejected(Exception):
    """The server refused the request (4xx): retrying the same thing will not help."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class AuthRefused(ServerRejected):
    """401/403: the key is wrong, revoked or for another site; no request will get through."""


class ServerClient:
    def __init__(self, base_url: str, key: str, timeout_seconds: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key}", "User-Agent": "datas-agent"},
            timeout=httpx.Timeout(timeout_seconds),
        )

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status in (408, 429):
            raise ServerUnavailable(f"{method} {path}: HTTP {status} (busy)")
        try:
            body = response.json()
            parsed = True
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
            body, parsed = None, False
        if status >= 400:
            message = body.get("message") if isinstance(body, dict) else None
            text = str(message or (body if parsed else response.text[:300]))[:1000]
            if status >= 500:
                raise ServerFailed(status, f"{method} {path}: {text}")
            if status in (401, 403):
                raise AuthRefused(status, text)
            raise ServerRejected(status, text)
        if not parsed:
            raise ServerUnavailable(f"{method} {path}: the answer is not JSON")
        return body

    def healthy(self) -> bool:
        """The server says it and its database work (GET /healthz answers 200)."""
        try:
            return self._client.get("/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    def targets(self, site_id: str, count: int = 20) -> Any:
        """The ranked list as the server sent it (parsed JSON, not yet checked: see
        site_agent.target_list)."""
        return self._call("GET", "/api/v1/targets", params={"site_id": site_id, "count": count})

    def site(self, site_id: str) -> Any:
        return self._call("GET", f"/api/v1/sites/{site_id}")

    def heartbeat(self, site_id: str, payload: dict[str, Any]) -> Any:
        return self._call("PUT", f"/api/v1/sites/{site_id}/heartbeat", json=payload)

    def upload_frame(
        self, site_id: str, path: str, observation_id: str | None, target_id: int | None
    ) -> Any:
        data: dict[str, Any] = {"site_id": site_id}
        if observation_id:
            data["observation_id"] = observation_id
        if target_id:
            data["target_id"] = str(target_id)
        with open(path, "rb") as handle:
            files = {"file": (path.rsplit("/", 1)[-1], handle, "application/fits")}
            return self._call("POST", "/api/v1/frames", data=data, files=files)

    def post_observations(self, records: list[dict[str, Any]]) -> Any:
        return self._call("POST", "/api/v1/observations", json={"observations": records})
