"""Local modes (sequential, repeat, offline fallback), YAML and scripted plans in the loop,
local photometry uploaded with each observation, and the server pipeline reducing the frames
the agent uploaded into observations and a light curve."""

from __future__ import annotations

import math
from pathlib import Path

import httpx
import pytest
from dagster import build_sensor_context, instance_for_test

from benchmarks.harness import api_server
from datas_core.db import make_session_factory, session_scope
from datas_core.db.models import Frame, Observation, Target
from datas_core.settings import get_settings
from site_agent.config import ConfigError, SiteConfig, load_config
from site_agent.devices.simulator import SimOptions, simulator_devices
from site_agent.executor import TRANSITIONS, Agent, Location
from site_agent.server_client import ServerClient


def _config(base: str, key: str, tmp_path: Path, **extra: object) -> SiteConfig:
    return SiteConfig.model_validate(
        {
            "site_id": "sim",
            "server": {"url": base, "key": key, "timeout_seconds": 2},
            "state_dir": str(tmp_path / "state"),
            "poll_seconds": 0.01,
            "heartbeat_seconds": 0.01,
            "device_deadline_seconds": 2,
            "safety": {"holdoff_seconds": 0.5, "min_free_disk_mb": 1},
            "simulator": {"time_factor": 0.001},
            **extra,
        }
    )


def _agent(config: SiteConfig, base: str, key: str) -> Agent:
    return Agent(
        config, simulator_devices(SimOptions(time_factor=0.001)), ServerClient(base, key, 2)
    )


def _zenith_plan(night_site: dict, name: str, **extra: object) -> dict:
    with session_scope(make_session_factory(night_site["engine"])) as s:
        t = s.get(Target, night_site["target_ids"][0])
        ra, dec = t.ra_deg, t.dec_deg
    return {"name": name, "ra_deg": ra, "dec_deg": dec, **extra}


def test_local_photometry_is_uploaded_with_each_observation(
    night_site: dict, tmp_path: Path
) -> None:
    with api_server(night_site["db_url"]) as base:
        agent = _agent(_config(base, night_site["key"], tmp_path), base, night_site["key"])
        report = agent.cycle()
        assert report.queued == 2 and report.sent == 2
        agent.close()
    with session_scope(make_session_factory(night_site["engine"])) as s:
        rows = s.query(Observation).all()
        assert len(rows) == 2
        for obs in rows:
            assert obs.method == "local-aperture" and obs.pipeline_version.startswith("datas-")
            assert obs.flux_err > 0 and obs.seeing_arcsec > 0
            # the simulator renders the target it was sent to, at its catalog magnitude (11.0)
            assert obs.quality_flags == []
            assert abs(obs.magnitude - 11.0) < 4 * obs.mag_error
            # the simulator's zero point: 22 mag for 1 e-/s at gain 1.5 e-/ADU, 10% cloud
            expected = 22.0 - 2.5 * math.log10(1.5) + 2.5 * math.log10(0.91)
            assert obs.zero_point == pytest.approx(expected, abs=0.03)
            assert obs.reference_catalog == "synthetic@1"


def test_sequential_plans_run_in_start_order_once_and_survive_a_restart(
    night_site: dict, tmp_path: Path
) -> None:
    script = tmp_path / "series.py"
    script.write_text(
        "for f in filters:\n    expose(f, exposure_sec=seconds, count=1)\ndark(seconds, 1)\n"
    )
    args = tmp_path / "args.csv"
    args.write_text("filters,seconds\nV,5\n")
    # one run of the script per CSV row, the columns as variables
    script.write_text("expose(filters, exposure_sec=seconds, count=2)\ndark(seconds, 1)\n")
    plans = [
        _zenith_plan(
            night_site,
            "later",
            start="2020-01-02T00:00:00Z",
            target_id=night_site["target_ids"][0],
            sequence=[{"filter": "R", "exposure_sec": 10, "count": 1}],
        ),
        _zenith_plan(
            night_site,
            "first",
            start="2020-01-01T00:00:00Z",
            script=str(script),
            args_csv=str(args),
            target_id=night_site["target_ids"][0],
        ),
        _zenith_plan(
            night_site,
            "future",
            start="2999-01-01T00:00:00Z",
            sequence=[{"filter": "V", "exposure_sec": 10}],
        ),
    ]
    with api_server(night_site["db_url"]) as base:
        config = _config(base, night_site["key"], tmp_path, mode="sequential", plans=plans)
        agent = _agent(config, base, night_site["key"])
        first = agent.cycle()
        assert first.reasons == [] and first.queued == 2  # two V frames; the dark is no observation
        assert len(list((tmp_path / "state" / "frames").glob("dark-*.fits"))) == 1
        second = agent.cycle()
        assert second.queued == 1  # the R frame of "later"
        agent.close()
        agent = _agent(config, base, night_site["key"])  # restarted: done plans stay done
        third = agent.cycle()
        assert third.queued == 0 and agent.state == "ready"  # "future" has not started
        for _, old, new in agent.history:
            assert new in TRANSITIONS[old]
        agent.close()


def test_repeat_mode_cycles_through_the_plans(night_site: dict, tmp_path: Path) -> None:
    plans = [
        _zenith_plan(
            night_site,
            "a",
            target_id=night_site["target_ids"][0],
            sequence=[{"filter": "V", "exposure_sec": 5}],
        ),
        _zenith_plan(
            night_site,
            "b",
            target_id=night_site["target_ids"][0],
            sequence=[{"filter": "R", "exposure_sec": 5}],
            repeats=2,
        ),
    ]
    with api_server(night_site["db_url"]) as base:
        agent = _agent(
            _config(base, night_site["key"], tmp_path, mode="repeat", plans=plans),
            base,
            night_site["key"],
        )
        queued = [agent.cycle().queued for _ in range(4)]
        assert queued == [1, 2, 1, 2]
        agent.close()


def test_network_mode_falls_back_to_local_plans_when_offline_and_the_cache_is_empty(
    night_site: dict, tmp_path: Path
) -> None:
    plans = [
        _zenith_plan(
            night_site, "fallback", sequence=[{"kind": "dark", "exposure_sec": 5, "count": 2}]
        )
    ]
    with api_server(night_site["db_url"]) as base:
        config = _config(base, night_site["key"], tmp_path, plans=plans)
        agent = _agent(config, base, night_site["key"])
        agent.site_location()  # known position (cached on disk)
    # server gone, no cached list: the local plan runs
    report = agent.cycle()
    assert report.server_reachable is False
    assert len(list((tmp_path / "state" / "frames").glob("dark-*.fits"))) == 2
    agent.close()


def test_hostile_or_broken_scripts_are_refused_at_load_with_the_line(tmp_path: Path) -> None:
    base = "site_id: sim\nserver: {url: 'http://127.0.0.1:9', key: 'datas_x_y'}\n"
    for body, words in [
        ("import os\nos.system('rm -rf /')\n", "line 1"),
        ("expose('V', 10)\nopen('/etc/passwd')\n", "line 2"),
        ("x = (1).__class__\n", "line 1"),
        ("while True:\n    pass\n", "line 1"),
    ]:
        script = tmp_path / "evil.py"
        script.write_text(body)
        site = tmp_path / "site.yaml"
        site.write_text(
            base + "plans:\n  - {name: evil, ra_deg: 10, dec_deg: 10, script: evil.py}\n"
        )
        with pytest.raises(ConfigError) as caught:
            load_config(site)
        assert "plans.0 (evil)" in str(caught.value) and words in str(caught.value), str(
            caught.value
        )
    site.write_text(base + "plans:\n  - {name: bad, sequence: [{filter: V, exposure_sec: 5}]}\n")
    with pytest.raises(ConfigError, match="ra_deg and dec_deg"):
        load_config(site)


def test_uploaded_frames_are_reduced_by_the_pipeline_into_a_light_curve(
    night_site: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datas_pipelines.definitions import defs
    from datas_pipelines.defs.frames.sensors import pending_frames_sensor
    from datas_pipelines.resources import AppDatabase

    home = tmp_path / "server-home"
    home.mkdir()
    with api_server(night_site["db_url"], home=str(home)) as base:
        config = _config(base, night_site["key"], tmp_path, outbox={"upload_frames": True})
        agent = _agent(config, base, night_site["key"])
        report = agent.cycle()
        assert report.frames_sent == 2
        agent.close()
        monkeypatch.setenv("DATAS_HOME", str(home))
        monkeypatch.setenv("DATAS_DATABASE_URL", night_site["db_url"])
        get_settings.cache_clear()
        resources = {"app_db": AppDatabase(database_url=night_site["db_url"])}
        with instance_for_test() as instance:
            tick = pending_frames_sensor(
                build_sensor_context(instance=instance, resources=resources)
            )
            run = defs.resolve_job_def("frame_reduction_job").execute_in_process(
                run_config=tick.run_requests[0].run_config, instance=instance, resources=resources
            )
            assert run.success
        get_settings.cache_clear()
        with session_scope(make_session_factory(night_site["engine"])) as s:
            assert {f.status for f in s.query(Frame).all()} == {"reduced"}
            pipeline = s.query(Observation).filter(Observation.method == "pipeline-aperture").all()
            local = s.query(Observation).filter(Observation.method == "local-aperture").all()
            assert len(pipeline) == 2 and len(local) == 2
            # one implementation: the server measures the frame exactly as the site did
            by_frame = {o.frame_id: o for o in pipeline}
            for obs in local:
                frame = s.query(Frame).filter(Frame.observation_id == obs.observation_id).one()
                assert by_frame[frame.frame_id].flux == pytest.approx(obs.flux, rel=1e-4)
        target = night_site["target_ids"][0]
        curve = httpx.get(
            f"{base}/api/v1/lightcurve/{target}",
            headers={"Authorization": f"Bearer {night_site['key']}"},
        ).json()
        assert curve["total"] == 4 and all(r["bjd_tdb"] > 2_460_000 for r in curve["rows"])


def test_disk_full_parks_and_a_full_outbox_stops_observing_without_losing_anything(
    night_site: dict, tmp_path: Path
) -> None:
    import shutil

    free_mb = shutil.disk_usage(tmp_path).free / 1024 / 1024
    with api_server(night_site["db_url"]) as base:
        # less free disk than the limit: unsafe, park, nothing observed
        config = _config(base, night_site["key"], tmp_path)
        config.safety.min_free_disk_mb = free_mb * 10
        agent = _agent(config, base, night_site["key"])
        report = agent.cycle()
        assert report.observed == [] and agent.state == "safe-hold"
        assert any("free disk" in r for r in report.reasons)
        agent.close()
    # offline with an outbox that can hold almost nothing: the first record fits, then observing
    # stops with the reason, and what was queued stays queued
    config = _config(base, night_site["key"], tmp_path / "b", outbox={"max_mb": 0.001})
    agent = _agent(config, base, night_site["key"])
    agent.location = Location(0.0, night_site["longitude"], 20.0)
    agent.cache.store(
        [
            {
                "target_id": t,
                "name": f"Z{i}",
                "ra_deg": ra,
                "dec_deg": dec,
                "exposure_plan": {"filter": "V", "exposure_sec": 20, "count": 2},
            }
            for i, (t, ra, dec) in enumerate(night_site["positions"])
        ],
        agent.clock(),
    )
    queued = 0
    for _ in range(4):  # each cycle queues two frames until the outbox is full
        report = agent.cycle()
        queued += report.queued
        if report.reasons:
            break
    assert report.server_reachable is False and agent.state in ("safe-hold", "error")
    assert any("outbox" in r for r in report.reasons), report.reasons
    assert agent.outbox.stats()["pending"] == queued >= 1
    agent.close()
