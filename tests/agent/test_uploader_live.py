"""The uploader against a real API process and database: outages, garbage, bad records."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from benchmarks.harness import api_server, free_port
from datas_core.db import make_session_factory
from datas_core.db.models import Observation
from site_agent.outbox import Backoff, Outbox
from site_agent.server_client import ServerClient
from site_agent.uploader import drain_observations


class Clock:
    def __init__(self) -> None:
        self.now = 2_000_000.0

    def __call__(self) -> float:
        return self.now


def _observation(target_id: int, minutes_ago: float, **extra: object) -> dict[str, object]:
    when = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    return {
        "observation_id": str(uuid.uuid4()),
        "target_id": target_id,
        "site_id": "ond",
        "observed_at": when.isoformat(),
        "exposure_sec": 30,
        "filter": "V",
        "magnitude": 7.5,
        "mag_error": 0.01,
        **extra,
    }


def _stored(engine: object) -> int:
    with make_session_factory(engine)() as s:  # type: ignore[arg-type]
        return int(s.scalar(select(func.count()).select_from(Observation)) or 0)


def test_outage_then_drain_stores_everything_exactly_once(
    db_url: str, network: dict, tmp_path: Path
) -> None:
    clock = Clock()
    box = Outbox(tmp_path / "outbox.sqlite3", backoff=Backoff(10, 600, 0.0), clock=clock)
    records = [_observation(network["target_id"], 60 - i * 0.1) for i in range(500)]
    for r in records:
        box.put("observation", r["observation_id"], r)
    down = ServerClient(f"http://127.0.0.1:{free_port()}", network["key"], timeout_seconds=2)
    report = drain_observations(box, down)
    assert report.server_down and report.sent == 0 and box.stats()["pending"] == 500
    assert drain_observations(box, down).sent == 0  # backing off: nothing due yet
    assert all(r.tries == 0 for r in box.rows())  # an outage is nobody's fault
    with api_server(db_url) as base:
        client = ServerClient(base, network["key"])
        clock.now += 11
        report = drain_observations(box, client)
        assert report.sent == 500 and box.stats() == {**box.stats(), "pending": 0, "sent": 500}
        # A crash after upload but before the acknowledgement: the replay is recognised.
        again = Outbox(tmp_path / "replay.sqlite3", clock=clock)
        for r in records[:50]:
            again.put("observation", r["observation_id"], r)
        assert drain_observations(again, client).sent == 50
        client.close()
    box.close()
    again.close()
    down.close()
    assert _stored(network["engine"]) == 500


def test_one_bad_record_is_isolated_and_kept_with_the_reason(
    db_url: str, network: dict, tmp_path: Path
) -> None:
    box = Outbox(tmp_path / "outbox.sqlite3")
    good = [_observation(network["target_id"], 5) for _ in range(3)]
    bad = _observation(network["target_id"], 5, magnitude="bright")
    for r in [good[0], bad, *good[1:]]:
        box.put("observation", r["observation_id"], r)
    with api_server(db_url) as base:
        client = ServerClient(base, network["key"])
        report = drain_observations(box, client)
        client.close()
    assert (report.sent, report.dead) == (3, 1)
    reason = dict(box.dead_items())[bad["observation_id"]]
    box.close()
    assert "magnitude" in reason
    assert _stored(network["engine"]) == 3


class GarbageHandler(http.server.BaseHTTPRequestHandler):
    replies = [(500, b"internal error"), (200, b"<html>not json</html>")]

    def do_POST(self) -> None:
        status, body = self.replies[self.server.calls % 2]  # type: ignore[attr-defined]
        self.server.calls += 1  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def garbage_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), GarbageHandler)
    server.calls = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_500s_and_garbage_answers_lose_nothing(garbage_server: str, tmp_path: Path) -> None:
    clock = Clock()
    box = Outbox(tmp_path / "outbox.sqlite3", backoff=Backoff(1, 5, 0.0), clock=clock)
    for i in range(5):
        box.put("observation", f"k{i}", {"observation_id": f"k{i}"})
    client = ServerClient(garbage_server, "datas_x_y", timeout_seconds=2)
    for _ in range(4):
        report = drain_observations(box, client)
        assert report.server_down and report.sent == 0
        clock.now += 10
    assert box.stats()["pending"] == 5 and box.stats()["dead"] == 0
    box.close()
    client.close()
