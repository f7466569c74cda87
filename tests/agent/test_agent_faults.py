"""Faults found by injection: whatever the server's target list holds, and whatever a state
handler throws, the agent keeps observing what it can, says why, and never wedges.

The agent runs against the real API through tests/agent/fault_proxy.py, which corrupts what a
test asks for (the ranked list, one handler) and passes everything else through."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.harness import api_server
from datas_core.db import make_session_factory, session_scope
from datas_core.schemas.targets import TargetCreate
from datas_core.services import targets
from site_agent.config import SiteConfig
from site_agent.control import status_of
from site_agent.devices.simulator import SimOptions, simulator_devices
from site_agent.executor import TRANSITIONS, Agent
from site_agent.server_client import ServerClient
from tests.agent.fault_proxy import Reply, Request, fault_proxy

# About the agent, not the database: one backend is enough.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
RESTING = {"ready", "parked", "safe-hold", "error"}  # where a cycle may end
HOLDOFF = 0.5


def _agent(base: str, key: str, tmp_path: Path) -> Agent:
    config = SiteConfig.model_validate(
        {
            "site_id": "sim",
            "server": {"url": base, "key": key, "timeout_seconds": 5},
            "state_dir": str(tmp_path / "state"),
            "poll_seconds": 0.01,
            "heartbeat_seconds": 0.01,
            "device_deadline_seconds": 30,  # a loaded CI machine renders slowly; no hangs here
            "error_holdoff_seconds": HOLDOFF,
            "safety": {"holdoff_seconds": 0.3, "min_free_disk_mb": 1},
            "simulator": {"time_factor": 0.001},
        }
    )
    devices = simulator_devices(SimOptions(time_factor=0.001))
    return Agent(config, devices, ServerClient(base, key, 5))


def _cycle(agent: Agent) -> Any:
    time.sleep(0.02)  # past heartbeat_seconds, so every cycle reports
    return agent.cycle()


def _heartbeat(base: str, key: str) -> dict[str, Any]:
    site = httpx.get(
        f"{base}/api/v1/sites/sim", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert site.status_code == 200, site.text
    return dict(site.json()["latest_heartbeat"])


def _targets_request(request: Request) -> bool:
    return request.method == "GET" and request.path.startswith("/api/v1/targets?")


def _legal(agent: Agent) -> None:
    for _, old, new in agent.history:
        assert new in TRANSITIONS[old], f"{old} -> {new}"


def _add_targets(night_site: dict, count: int) -> list[int]:
    """More good targets near the others (lower priority than Z0..Z2)."""
    _, ra, dec = night_site["positions"][1]
    with session_scope(make_session_factory(night_site["engine"])) as s:
        made = targets.create_targets(
            s,
            [
                TargetCreate(
                    name=f"G{i}",
                    ra_deg=(ra + 3 + 3 * i) % 360,
                    dec_deg=dec,
                    priority=5 - i,
                    magnitude=11.0,
                    exposure_hints={"exposure_sec": 20, "count": 2, "filter": "V"},
                )
                for i in range(count)
            ],
        )
        s.flush()
        return [t.target_id for t in made]


@SQLITE_ONLY
def test_broken_entries_are_skipped_the_good_ones_observed_and_the_bad_reported(
    night_site: dict, tmp_path: Path
) -> None:
    z0, z1, z2 = night_site["target_ids"]
    g0, g1 = _add_targets(night_site, 2)

    def break_three(request: Request, forward: Any) -> Reply | None:
        if not _targets_request(request):
            return None
        real = forward()
        body = json.loads(real.body)
        by_id = {t["target_id"]: t for t in body["targets"]}
        by_id[z0]["exposure_hints"] = {"exposure_sec": "@NaN@"}  # the server's real fault
        del by_id[z1]["ra_deg"]
        by_id[z2]["dec_deg"] = "north"
        text = json.dumps(body).replace('"@NaN@"', "NaN")  # a bare NaN literal: not JSON
        return Reply(200, text.encode())

    with api_server(night_site["db_url"]) as base, fault_proxy(base) as proxy:
        proxy.rule = break_three
        agent = _agent(proxy.url, night_site["key"], tmp_path)
        report = _cycle(agent)
        assert report.observed == [g0] and report.sent == 2 and agent.state == "ready"
        cached = json.loads((tmp_path / "state" / "targets.json").read_text())
        assert [t["target_id"] for t in cached["targets"]] == [g0, g1]  # the good ones kept

        _cycle(agent)  # its heartbeat reports what the first cycle skipped
        beat = _heartbeat(base, night_site["key"])
        status = beat["devices"]["agent"]
        assert beat["state"] == "ready" and status["target_list"] == "ok"
        assert status["rejected_targets"] == 3 and status["error"] is None
        reasons = " | ".join(status["rejections"])
        assert f"target {z0}" in reasons and "exposure_hints.exposure_sec is NaN" in reasons
        assert f"target {z1}" in reasons and "ra_deg is missing" in reasons
        assert f"target {z2}" in reasons and "dec_deg: expected a number, got 'north'" in reasons
        assert status["last_rejection"].startswith(f"entry 2 (target {z2}")

        proxy.rule = None  # the server is fixed: the best target is observed again
        report = _cycle(agent)
        assert report.observed == [z0]
        _cycle(agent)
        assert _heartbeat(base, night_site["key"])["devices"]["agent"]["rejected_targets"] == 0
        _legal(agent)
        agent.close()


GARBAGE = [
    (b"<html><body>502 Bad Gateway</body></html>", "not JSON"),
    (b'{"targets": [{"target_id": 1,', "not JSON"),  # cut off
    (b"[" * 100_000, "not JSON"),  # deeper than a JSON parser goes
    (b'{"targets": 5}', "expected an object with a 'targets' list, got a number"),
    (b'{"sites": []}', "got no 'targets'"),
    (b"[]", "expected an object with a 'targets' list, got a list"),
    (b"null", "got null"),
]


@SQLITE_ONLY
def test_garbage_instead_of_a_list_never_wedges_and_it_recovers(
    night_site: dict, tmp_path: Path
) -> None:
    with api_server(night_site["db_url"]) as base, fault_proxy(base) as proxy:
        agent = _agent(proxy.url, night_site["key"], tmp_path)
        # and a sensor reading NaN: strict JSON has no NaN, so the heartbeat sends null
        agent.devices.camera.options.ccd_temp_c = float("nan")  # type: ignore[attr-defined]
        for body, reason in GARBAGE:
            proxy.rule = lambda r, _, b=body: Reply(200, b) if _targets_request(r) else None
            for _ in range(2):
                report = _cycle(agent)
                assert report.observed == [] and agent.state in RESTING
            beat = _heartbeat(base, night_site["key"])  # sent by the second cycle
            assert beat["state"] == "ready" and beat["devices"]["camera"]["temperature_c"] is None
            assert beat["devices"]["agent"]["target_list"].startswith("not refreshed")
            assert reason in beat["devices"]["agent"]["target_list"], beat["devices"]["agent"]
        # A list whose every entry is junk is still a list: each entry is refused on its own.
        junk = b'{"targets": [NaN, Infinity, "x", null, 3, {"target_id": true}]}'
        proxy.rule = lambda r, _: Reply(200, junk) if _targets_request(r) else None
        assert _cycle(agent).observed == []
        _cycle(agent)
        status = _heartbeat(base, night_site["key"])["devices"]["agent"]
        assert status["target_list"] == "ok" and status["rejected_targets"] == 6

        proxy.rule = None
        report = _cycle(agent)
        assert report.observed == [night_site["target_ids"][0]] and agent.state == "ready"
        _legal(agent)
        agent.close()


def _raise_once(obj: Any, name: str, exc: Exception) -> None:
    """The fault: the named handler raises once, then works again."""
    real = getattr(obj, name)

    def faulty(*args: Any, **kwargs: Any) -> Any:
        setattr(obj, name, real)
        raise exc

    setattr(obj, name, faulty)


@SQLITE_ONLY
@pytest.mark.parametrize("where", ["selecting", "exposing", "interrupted"])
def test_an_unexpected_exception_means_error_park_and_a_retry_after_the_holdoff(
    night_site: dict, tmp_path: Path, where: str
) -> None:
    with api_server(night_site["db_url"]) as base:
        agent = _agent(base, night_site["key"], tmp_path)
        if where == "selecting":
            _raise_once(agent, "_observable", ZeroDivisionError("float division by zero"))
            expected = "ZeroDivisionError while selecting: float division by zero"
        elif where == "exposing":
            assert agent.photometry is not None
            _raise_once(agent.photometry, "measure", KeyError("FILTER"))
            expected = "KeyError while exposing: 'FILTER'"
        else:  # the production wedge: a cycle cut short left the machine in `selecting`
            assert _cycle(agent).observed
            agent.state = "selecting"
            expected = "CycleInterrupted while selecting: the previous cycle stopped"

        report = _cycle(agent)
        assert report.observed == [] and agent.state == "error"
        assert any(expected in r for r in report.reasons), report.reasons
        assert agent.devices.mount.parked  # type: ignore[attr-defined]
        visited = [new for _, _, new in agent.history]
        assert visited[-3:] == ["parking", "parked", "error"]
        beat = _heartbeat(base, night_site["key"])  # reported at once
        assert beat["state"] == "error" and expected in (beat["message"] or "")
        assert expected in beat["devices"]["agent"]["error"]
        assert beat["devices"]["agent"]["retry_at"] is not None

        report = _cycle(agent)  # within the hold-off: parked, in error, saying why
        assert report.observed == [] and agent.state == "error"
        assert "observing again in" in report.reasons[0]

        time.sleep(HOLDOFF + 0.1)
        report = _cycle(agent)
        # the served list reacts to observations: once the first target is observed, the next
        first_unobserved = night_site["target_ids"][1 if where == "interrupted" else 0]
        assert report.observed == [first_unobserved], (report, agent.history)
        assert agent.state == "ready"
        assert agent.health.error is None
        _cycle(agent)
        beat = _heartbeat(base, night_site["key"])
        assert beat["state"] == "ready" and beat["devices"]["agent"]["error"] is None
        _legal(agent)
        agent.close()


def test_every_state_can_fall_into_error() -> None:
    # what makes the recovery path above legal from wherever a failure strikes
    assert all("error" in allowed for allowed in TRANSITIONS.values())
    assert TRANSITIONS.keys() >= {new for allowed in TRANSITIONS.values() for new in allowed}


@SQLITE_ONLY
def test_a_refused_key_keeps_observations_queued_says_so_and_they_go_out_once_fixed(
    night_site: dict, tmp_path: Path
) -> None:
    with api_server(night_site["db_url"]) as base:
        agent = _agent(base, night_site["key"], tmp_path)
        assert _cycle(agent).sent == 2  # online: the site and the list are cached
        agent.client.close()
        agent.client = ServerClient(base, "datas_0123456789ab_revokedrevoked", 5)
        queued = 0
        for _ in range(2):  # observing goes on from the cached list
            report = _cycle(agent)
            assert report.observed and agent.state == "ready"
            queued += report.queued
        status = status_of(agent)
        assert status["agent"]["uploads"].startswith("stopped: the server refused the key (401")
        assert status["outbox"]["pending"] == queued == 4 and status["outbox"]["dead"] == 0
        agent.client.close()
        agent.client = ServerClient(base, night_site["key"], 5)  # the key fixed
        report = _cycle(agent)
        assert report.sent == queued + report.queued
        assert status_of(agent)["agent"]["uploads"] == "ok"
        assert agent.outbox.stats()["pending"] == 0
        agent.close()
