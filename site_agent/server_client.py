"""Talking to the DATAS server: every call has a deadline; failures are classified."""

from __future__ import annotations

from typing import Any

import httpx


class ServerUnavailable(Exception):
    """Network down, timeout, 5xx or an answer that is not the expected JSON: try again later."""


class ServerRejected(Exception):
    """The server refused the request for good (4xx): retrying the same thing will not help."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


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
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise ServerUnavailable(f"{method} {path}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            if response.status_code >= 400:
                raise ServerRejected(response.status_code, response.text[:300]) from exc
            raise ServerUnavailable(f"{method} {path}: the answer is not JSON") from exc
        if response.status_code >= 400:
            message = body.get("message") if isinstance(body, dict) else None
            raise ServerRejected(response.status_code, str(message or body)[:1000])
        return body

    def targets(self, site_id: str, count: int = 20) -> dict[str, Any]:
        body = self._call("GET", "/api/v1/targets", params={"site_id": site_id, "count": count})
        if not isinstance(body, dict) or not isinstance(body.get("targets"), list):
            raise ServerUnavailable("GET /api/v1/targets: the answer has no 'targets' list")
        return body

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
