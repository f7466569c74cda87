"""A fault injector: a real HTTP server on 127.0.0.1 in front of the real API.

Every request is forwarded unchanged, except those a test's rule answers itself: a rule gets the
request and a `forward()` that fetches the real answer, and returns a `Reply` (to inject a
fault, e.g. a NaN in the ranked list, garbage, or a 500 for one record) or None (pass through).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx


@dataclass
class Request:
    method: str
    path: str  # with the query string
    body: bytes


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"


Rule = Callable[[Request, Callable[[], Reply]], Reply | None]


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.rule: Rule | None = None
        self.seen: list[Request] = []
        self._upstream = httpx.Client(base_url=upstream, timeout=30)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, self.rfile.read(length))
                proxy.seen.append(request)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }

                def forward() -> Reply:
                    answer = proxy._upstream.request(
                        request.method, request.path, content=request.body, headers=headers
                    )
                    kind = answer.headers.get("content-type", "application/octet-stream")
                    return Reply(answer.status_code, answer.content, kind)

                rule = proxy.rule
                reply = (rule(request, forward) if rule else None) or forward()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._upstream.close()


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream)
    try:
        yield proxy
    finally:
        proxy.close()
