"""The real agent over the simulator against a real server: the served entry says what the
target is (type, period), the simulator renders it at its magnitude of the moment, the site's
local photometry measures that, and the server's reduction of the uploaded frames agrees."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from benchmarks.harness import api_server
from datas_core.db import make_session_factory, session_scope
from datas_core.db.models import Frame, Observation, Target
from datas_core.services import frame_reduction
from datas_core.settings import get_settings
from datas_core.sky.time import JD_UNIX_EPOCH, julian_date
from datas_core.storage import store_from_settings
from site_agent.config import SiteConfig
from site_agent.devices.simulator import SimOptions, simulator_devices
from site_agent.executor import Agent
from site_agent.server_client import ServerClient
from site_agent.target_list import read_entry

PERIOD, AMPLITUDE = 0.31, 0.6


def _make_variable(night_site: dict) -> tuple[int, float]:
    """The first target (mag 11) becomes an RRc with its period and epoch in exposure_hints."""
    target_id = night_site["target_ids"][0]
    epoch = round(time.time() / 86400.0 + JD_UNIX_EPOCH, 5)  # maximum light: now
    with session_scope(make_session_factory(night_site["engine"])) as s:
        target = s.get(Target, target_id)
        assert target is not None
        target.target_type = "variable_star"
        target.classification = "RRC"
        target.exposure_hints = {
            **(target.exposure_hints or {}),
            "period_days": PERIOD,
            "amplitude_mag": AMPLITUDE,
            "epoch_jd": epoch,
        }
    return target_id, epoch


def _model_magnitude(observed_at: datetime, exposure_sec: float, epoch: float) -> float:
    from datas_core.science.variability import model_for

    mid = observed_at + timedelta(seconds=exposure_sec / 2)
    model = model_for(
        "Z0", "variable_star", "RRC", period_days=PERIOD, amplitude_mag=AMPLITUDE, epoch_jd=epoch
    )
    return float(model.magnitude(11.0, float(julian_date(mid))))


def test_the_agent_observes_the_served_variable_and_the_server_agrees(
    night_site: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target_id, epoch = _make_variable(night_site)
    home = tmp_path / "server-home"
    home.mkdir()
    key = night_site["key"]
    with api_server(night_site["db_url"], home=str(home)) as base:
        config = SiteConfig.model_validate(
            {
                "site_id": "sim",
                "server": {"url": base, "key": key, "timeout_seconds": 5},
                "state_dir": str(tmp_path / "state"),
                "poll_seconds": 0.01,
                "heartbeat_seconds": 0.01,
                "device_deadline_seconds": 5,
                "safety": {"holdoff_seconds": 0.5, "min_free_disk_mb": 1},
                "simulator": {"time_factor": 0.001},
                "outbox": {"upload_frames": True},
            }
        )
        devices = simulator_devices(SimOptions(time_factor=0.001))
        agent = Agent(config, devices, ServerClient(base, key, 5))
        report = agent.cycle()
        agent.close()
        assert report.observed == [target_id] and report.sent == 2 and report.frames_sent == 2
        # what the agent was sent (after its heartbeat: before it, the site has no list)
        served = httpx.get(
            f"{base}/api/v1/targets?site_id=sim",
            headers={"Authorization": f"Bearer {key}"},
        ).json()["targets"]
        entry = next(e for e in served if e["target_id"] == target_id)
        assert entry["classification"] == "RRC" and entry["target_type"] == "variable_star"
        assert entry["variability"] == {
            "period_days": PERIOD,
            "amplitude_mag": AMPLITUDE,
            "epoch_jd": epoch,
        }
        assert read_entry(entry).variability["period_days"] == PERIOD  # what the agent keeps

    monkeypatch.setenv("DATAS_HOME", str(home))
    monkeypatch.setenv("DATAS_DATABASE_URL", night_site["db_url"])
    get_settings.cache_clear()
    try:
        factory = make_session_factory(night_site["engine"])
        with session_scope(factory) as s:
            ids = frame_reduction.claim(s, [f.frame_id for f in s.query(Frame).all()])
        settings = get_settings()
        chooser = frame_reduction.CatalogChooser("none")  # simulator frames: the synthetic sky
        batch = frame_reduction.reduce_batch(factory, store_from_settings(settings), ids, chooser)
        assert len(batch.reduced) == 2, batch.as_dict()
    finally:
        get_settings.cache_clear()

    with session_scope(make_session_factory(night_site["engine"])) as s:
        local = s.query(Observation).filter(Observation.method == "local-aperture").all()
        pipeline = {
            o.frame_id: o
            for o in s.query(Observation).filter(Observation.method == "pipeline-aperture")
        }
        assert len(local) == 2 and len(pipeline) == 2
        for obs in local:
            assert obs.exposure_sec is not None and obs.magnitude is not None
            assert obs.mag_error is not None
            # the site measured the model's magnitude at mid-exposure
            expected = _model_magnitude(obs.observed_at, obs.exposure_sec, epoch)
            assert obs.quality_flags == [] and obs.reference_catalog == "synthetic@1"
            assert abs(obs.magnitude - expected) < 4 * obs.mag_error, (obs.magnitude, expected)
            # and the server, reducing the uploaded frame, measured the same
            frame = s.query(Frame).filter(Frame.observation_id == obs.observation_id).one()
            server = pipeline[frame.frame_id]
            assert server.quality_flags == []
            assert server.magnitude == pytest.approx(obs.magnitude, abs=0.002)
            assert server.zero_point == pytest.approx(obs.zero_point, abs=0.002)
