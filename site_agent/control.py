"""The local control endpoint: status, pause, resume and stop for a running agent.

HTTP on 127.0.0.1 only (never reachable from the network); the CLI's `status`, `pause`,
`resume` and `stop` talk to it.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


class ControlPortBusy(Exception):
    """The control port is taken; the message says what to do."""


class ControlServer:
    def __init__(self, agent: Any, port: int, stop_event: threading.Event) -> None:
        agent_ref, stop = agent, stop_event

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, body: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path != "/status":
                    self._reply({"error": "unknown path; use /status"}, 404)
                    return
                self._reply(status_of(agent_ref))

            def do_POST(self) -> None:
                if self.path == "/pause":
                    agent_ref.paused = True
                elif self.path == "/resume":
                    agent_ref.paused = False
                elif self.path == "/stop":
                    stop.set()
                else:
                    self._reply({"error": "unknown path; use /pause, /resume or /stop"}, 404)
                    return
                self._reply(status_of(agent_ref))

            def log_message(self, *args: Any) -> None:
                pass

        try:
            self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise ControlPortBusy(
                f"the control port 127.0.0.1:{port} cannot be opened ({exc.strerror or exc}): "
                "another datas-agent (or another program) uses it. Stop that one "
                "(`datas-agent stop`), or give this site another `control_port:` in site.yaml"
            ) from exc
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def status_of(agent: Any) -> dict[str, Any]:
    verdict = agent.last_verdict
    return {
        "site_id": agent.config.site_id,
        "state": agent.state,
        "paused": agent.paused,
        "safe": None if verdict is None else verdict.safe,
        "reasons": [] if verdict is None else verdict.reasons,
        "outbox": agent.outbox.stats(),
        "agent": agent.health.as_dict(),
    }


def send(port: int, command: str) -> dict[str, Any]:
    method = "GET" if command == "status" else "POST"
    try:
        response = httpx.request(method, f"http://127.0.0.1:{port}/{command}", timeout=5)
    except httpx.HTTPError as exc:
        raise ConnectionError(
            f"no agent answers on 127.0.0.1:{port} ({type(exc).__name__}); is `datas-agent run` "
            "running with this site.yaml?"
        ) from exc
    try:
        body = response.json()
    except ValueError as exc:
        raise ConnectionError(
            f"something other than a datas-agent answers on 127.0.0.1:{port} (HTTP "
            f"{response.status_code}, not JSON); check `control_port:` in site.yaml"
        ) from exc
    if not isinstance(body, dict):
        raise ConnectionError(f"the answer on 127.0.0.1:{port} is not a datas-agent status")
    return body
