"""The agent's observing loop with the simulator driver against a real API process."""

from __future__ import annotations

import time
from pathlib import Path

from astropy.io import fits
from sqlalchemy import func, select

from benchmarks.harness import api_server
from datas_core.db import make_session_factory
from datas_core.db.models import Frame, Observation, SiteStatus
from site_agent.config import SiteConfig
from site_agent.devices.simulator import SimOptions, simulator_devices
from site_agent.executor import TRANSITIONS, Agent
from site_agent.server_client import ServerClient


def _agent(base: str, key: str, tmp_path: Path, **sim: object) -> tuple[Agent, SimOptions]:
    config = SiteConfig.model_validate(
        {
            "site_id": "sim",
            "server": {"url": base, "key": key, "timeout_seconds": 5},
            "state_dir": str(tmp_path / "state"),
            "poll_seconds": 0.01,
            "heartbeat_seconds": 0.01,
            "device_deadline_seconds": 2,
            "safety": {"holdoff_seconds": 0.5, "min_free_disk_mb": 1},
            "simulator": {"time_factor": 0.001},
            "outbox": {"upload_frames": True},
        }
    )
    options = SimOptions(time_factor=0.001, **sim)  # type: ignore[arg-type]
    return Agent(config, simulator_devices(options), ServerClient(base, key, 5)), options


def _count(engine: object, model: object) -> int:
    with make_session_factory(engine)() as s:  # type: ignore[arg-type]
        return int(s.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


def test_a_night_cycle_observes_uploads_and_reports(night_site: dict, tmp_path: Path) -> None:
    with api_server(night_site["db_url"]) as base:
        agent, _ = _agent(base, night_site["key"], tmp_path)
        report = agent.cycle()
        assert report.reasons == [] and report.server_reachable
        assert report.observed == [night_site["target_ids"][0]]  # the best target
        assert report.queued == 2 and report.sent == 2 and agent.state == "ready"
        assert _count(night_site["engine"], Observation) == 2
        assert _count(night_site["engine"], SiteStatus) >= 1
        assert report.frames_sent == 2 and _count(night_site["engine"], Frame) == 2
        frames = sorted((tmp_path / "state" / "frames").glob("*.fits"))
        assert len(frames) == 2
        header = fits.getheader(frames[0])
        assert (
            header["FILTER"] == "V" and header["EXPTIME"] == 20 and header["CTYPE1"] == "RA---TAN"
        )
        for _, old, new in agent.history:
            assert new in TRANSITIONS[old]
        agent.close()


def test_offline_cycles_use_the_cache_and_the_outbox_drains_later(
    night_site: dict, tmp_path: Path
) -> None:
    with api_server(night_site["db_url"]) as base:
        agent, _ = _agent(base, night_site["key"], tmp_path)
        agent.cycle()  # online: caches the list and the site position
    # The server is gone: observing goes on from the cached list, observations wait.
    queued = 0
    for _ in range(2):
        report = agent.cycle()
        assert report.server_reachable is False and report.observed
        queued += report.queued
    # 4 observations and their 4 FITS frames wait in the outbox.
    assert queued == 4 and agent.outbox.stats()["pending"] == 8
    assert _count(night_site["engine"], Observation) == 2
    with api_server(night_site["db_url"]) as base:
        agent.client.close()
        agent.client = ServerClient(base, night_site["key"], 5)
        deadline = time.time() + 60
        while agent.outbox.stats()["pending"] and time.time() < deadline:
            agent.outbox._db.execute("UPDATE items SET next_attempt_at = 0")  # skip the wait
            agent.cycle()
    assert agent.outbox.stats()["pending"] == 0
    agent.close()
    assert _count(night_site["engine"], Observation) == 2 + 4 + 2 * 1  # + the last cycle
    assert _count(night_site["engine"], Frame) == 2 + 4 + 2 * 1


def test_unsafe_weather_parks_and_holds_off(night_site: dict, tmp_path: Path) -> None:
    with api_server(night_site["db_url"]) as base:
        agent, options = _agent(base, night_site["key"], tmp_path)
        options.wind_ms = 25.0
        report = agent.cycle()
        assert agent.state == "safe-hold" and report.observed == []
        assert any("wind" in r for r in report.reasons)
        assert agent.devices.mount.parked  # type: ignore[attr-defined]
        options.wind_ms = 3.0
        report = agent.cycle()
        assert agent.state == "safe-hold" and "holding off" in report.reasons[0]
        time.sleep(0.6)
        report = agent.cycle()
        assert report.observed and agent.state == "ready"
        agent.close()


def test_a_hung_camera_becomes_an_error_and_the_mount_parks(
    night_site: dict, tmp_path: Path
) -> None:
    with api_server(night_site["db_url"]) as base:
        agent, _ = _agent(base, night_site["key"], tmp_path, fail_after_exposures=1)
        start = time.monotonic()
        report = agent.cycle()
        assert time.monotonic() - start < 30  # the deadline, not the hang, ends the cycle
        assert any("camera exposure did not answer" in r for r in report.reasons)
        assert agent.state == "safe-hold" and agent.devices.mount.parked  # type: ignore[attr-defined]
        assert report.queued == 1  # the frame taken before the hang is kept
        agent.close()
