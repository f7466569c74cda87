"""Defenses applied to every request before any route runs, and headers on every answer.

- a NUL character in the path or query is refused (PostgreSQL text cannot hold it);
- a write with no credentials at all is refused before its body is read;
- a write authenticated by the session cookie must come from this site's own pages (the
  Origin, or failing that the Referer, names this host or DATAS_PUBLIC_URL): SameSite alone
  does not stop every cross-site form post;
- answers carry nosniff, no framing, a same-origin content policy, and `no-store` where they
  hold secrets or identities (auth, keys).
"""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
OPEN_WRITES = {"/api/v1/auth/login", "/api/v1/auth/logout"}  # need no credentials
NO_STORE_PREFIXES = ("/api/v1/auth", "/api/v1/keys", "/api/v1/users")
# Swagger UI (served locally at /docs) needs its inline start-up script and styles.
CONTENT_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CONTENT_POLICY.encode()),
]


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class RequestGuards:
    def __init__(self, app: ASGIApp, cookie_name: str, public_url: str | None = None) -> None:
        self.app = app
        self.cookie_marker = f"{cookie_name}=".encode()
        self.public_origin = _origin_of(public_url) if public_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        query: bytes = scope.get("query_string", b"")
        if "\x00" in path or b"\x00" in unquote_to_bytes(query):
            await _refuse(
                send,
                400,
                "bad_request",
                "the URL contains a NUL (%00) character; remove it",
            )
            return
        headers = dict(scope.get("headers") or [])
        if (
            scope.get("method") in UNSAFE_METHODS
            and path.startswith("/api/")
            and path not in OPEN_WRITES
            and b"authorization" not in headers
            and self.cookie_marker not in headers.get(b"cookie", b"")
        ):
            # Nobody to authorize: answer before the body (up to DATAS_MAX_*_BYTES) is read.
            await _refuse(
                send,
                401,
                "unauthorized",
                "this endpoint needs an API key: send 'Authorization: Bearer datas_...' "
                "(create one with `datas keys create`) or log in at /api/v1/auth/login",
                [(b"www-authenticate", b"Bearer")],
            )
            return
        if (
            scope.get("method") in UNSAFE_METHODS
            and self._cookie_only(headers)
            and not self._same_origin(headers, scope)
        ):
            await _refuse(
                send,
                403,
                "cross_site_request",
                "a write with the session cookie must come from the DATAS dashboard itself "
                "(its Origin header names another site, or none); scripts should use an API key",
            )
            return
        no_store = path.startswith(NO_STORE_PREFIXES)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(SECURITY_HEADERS)
                if no_store:
                    extra.append((b"cache-control", b"no-store"))
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in extra if k not in present
                ]
            await send(message)

        await self.app(scope, receive, with_headers)

    def _cookie_only(self, headers: dict[bytes, bytes]) -> bool:
        return b"authorization" not in headers and self.cookie_marker in headers.get(b"cookie", b"")

    def _same_origin(self, headers: dict[bytes, bytes], scope: Scope) -> bool:
        claimed = headers.get(b"origin") or headers.get(b"referer")
        if not claimed:
            return False  # browsers send Origin on every cross-site POST; no claim, no trust
        origin = _origin_of(claimed.decode("latin-1"))
        if origin is None:
            return False
        host = headers.get(b"host", b"").decode("latin-1").lower()
        scheme = scope.get("scheme", "http")
        return origin in {f"{scheme}://{host}", self.public_origin}


async def _refuse(
    send: Send,
    status: int,
    code: str,
    message: str,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    payload = json.dumps({"error": code, "message": message, "details": []}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *SECURITY_HEADERS,
                *(extra_headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
