"""Hostile clients against a real API process (uvicorn, 2 workers) on SQLite and PostgreSQL:
racing writes of one observation_id, and uploads refused before their body is read."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from benchmarks.harness import api_server
from datas_core.db import make_engine, make_session_factory, session_scope
from datas_core.db.models import Observation
from datas_core.schemas.auth import KeyCreate
from datas_core.schemas.sites import SiteCreate
from datas_core.schemas.targets import TargetCreate
from datas_core.services import auth, sites, targets

ROUNDS = 40


@pytest.fixture
def live(db_url: str, tmp_path: Any) -> Iterator[dict[str, Any]]:
    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine)) as s:
        sites.create_site(
            s, SiteCreate(site_id="ond", name="Ondrejov", latitude=49.9, longitude=14.8)
        )
        (target,) = targets.create_targets(
            s, [TargetCreate(name="RR Lyr", ra_deg=291.37, dec_deg=42.78)]
        )
        s.flush()
        _, key = auth.create_key(s, KeyCreate(role="site", site_id="ond"))
        target_id = target.target_id
    with api_server(db_url, workers=2, home=str(tmp_path / "home")) as base:
        yield {"base": base, "key": key, "target_id": target_id, "engine": engine}
    engine.dispose()


def _observation(oid: str, target_id: int, magnitude: float) -> dict[str, Any]:
    return {
        "observation_id": oid,
        "target_id": target_id,
        "site_id": "ond",
        "observed_at": (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(),
        "exposure_sec": 30,
        "filter": "V",
        "magnitude": magnitude,
        "mag_error": 0.01,
    }


def test_racing_writes_of_one_observation_id_keep_the_first(live: dict[str, Any]) -> None:
    """Two requests with one observation_id and different content: one 201, one 409, and the
    stored record is the one that got 201 (it was 6/40 rounds wrong on SQLite, 33/40 on PG)."""
    headers = {"Authorization": f"Bearer {live['key']}"}
    wrong = []
    with httpx.Client(base_url=live["base"], headers=headers, timeout=30) as client:
        for _ in range(ROUNDS):
            oid = str(uuid.uuid4())
            bodies = [_observation(oid, live["target_id"], m) for m in (12.0, 13.0)]
            answers: list[Any] = [None, None]
            start = threading.Barrier(2)

            def post(
                i: int,
                bodies: list[dict[str, Any]] = bodies,
                answers: list[Any] = answers,
                start: threading.Barrier = start,
            ) -> None:
                start.wait()
                answers[i] = client.post("/api/v1/observations", json=bodies[i])

            threads = [threading.Thread(target=post, args=(i,)) for i in (0, 1)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            codes = sorted(a.status_code for a in answers)
            with live["engine"].connect() as conn:
                stored = conn.execute(
                    select(Observation.magnitude).where(Observation.observation_id == oid)
                ).scalar_one()
            winner = next(a for a in answers if a.status_code == 201) if 201 in codes else None
            if codes != [201, 409] or winner is None or winner.json()["magnitude"] != stored:
                wrong.append((codes, stored))
            loser = next((a for a in answers if a.status_code == 409), None)
            if loser is not None:
                assert loser.json()["error"] == "conflict"
    assert wrong == [], f"{len(wrong)}/{ROUNDS} rounds wrong: {wrong[:5]}"


def _send_headers_only(base: str, headers: dict[str, str], declared: int) -> tuple[int, float]:
    """Declare a huge multipart body, send only its first bytes, and read the answer."""
    host, port = base.split("://", 1)[1].split(":")
    boundary = "datasboundary"
    head = [
        "POST /api/v1/frames HTTP/1.1",
        f"Host: {host}:{port}",
        f"Content-Type: multipart/form-data; boundary={boundary}",
        f"Content-Length: {declared}",
        *(f"{k}: {v}" for k, v in headers.items()),
        "",
        "",
    ]
    part = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.fits"\r\n\r\n'
    ).encode() + b"\0" * 65536
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall("\r\n".join(head).encode() + part)
        answer = sock.recv(4096)
    return int(answer[9:12]), time.monotonic() - started


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer datas_nope_wrongsecret"}])
def test_upload_is_refused_before_its_body_is_read(
    live: dict[str, Any], tmp_path: Any, headers: dict[str, str]
) -> None:
    """A 400 MB upload with no key or a wrong key: 401 after 64 KiB, nothing spooled."""
    status, _ = _send_headers_only(live["base"], headers, declared=400 * 1024 * 1024)
    assert status == 401
    incoming = tmp_path / "home" / "objects" / ".incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []


def test_upload_for_another_site_is_refused_before_its_body_is_read(
    live: dict[str, Any], db_url: str
) -> None:
    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine)) as s:
        _, reader = auth.create_key(s, KeyCreate(role="reader"))
    engine.dispose()
    status, _ = _send_headers_only(
        live["base"], {"Authorization": f"Bearer {reader}"}, declared=300 * 1024 * 1024
    )
    assert status == 403
