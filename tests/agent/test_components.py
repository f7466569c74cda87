"""Focuser, dome and per-property limits: the mechanism, site.yaml, and the agent's safety with
the simulator driver against a real API process (the dome opens before observing, closes when
the agent parks, and a dome that will not close keeps the agent parked in error)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.harness import api_server
from site_agent.config import (
    CameraLimits,
    ConfigError,
    DomeLimits,
    FocuserLimits,
    LimitsConfig,
    MountLimits,
    SafetyConfig,
    SiteConfig,
    load_config,
)
from site_agent.devices.base import (
    LIMIT_PROPERTIES,
    DeviceError,
    DeviceStatus,
    Limit,
    WeatherReading,
    check_limits,
)
from site_agent.devices.simulator import SimOptions, simulator_devices
from site_agent.executor import TRANSITIONS, Agent
from site_agent.runner import build_devices
from site_agent.safety import SafetyMonitor
from site_agent.server_client import ServerClient
from site_agent.template import render

KEY = "datas_0123456789ab_secretsecret"


def test_a_property_outside_its_limits_makes_the_device_out_of_range() -> None:
    limits = {"temperature_c": Limit(max=-5.0), "position": Limit(min=100, max=900)}
    ok = DeviceStatus("camera", properties={"temperature_c": -10.0})
    assert check_limits(ok, limits) is ok
    warm = check_limits(DeviceStatus("camera", properties={"temperature_c": 3.5}), limits)
    assert warm.state == "out-of-range" and warm.message == "temperature_c 3.5 above its limit -5"
    low = check_limits(DeviceStatus("focuser", properties={"position": 50}), limits)
    assert low.message == "position 50 below its limit 100"
    # An error stays an error, an unknown reading is not checked, a parked device is exempt.
    broken = DeviceStatus("camera", "error", "no answer", {"temperature_c": 30.0})
    assert check_limits(broken, limits) is broken
    unknown = DeviceStatus("camera", properties={"temperature_c": None})
    assert check_limits(unknown, limits).state == "ok"
    parked = DeviceStatus("mount", properties={"altitude_deg": -2.0, "parked": True})
    assert check_limits(parked, {"altitude_deg": Limit(min=10)}).state == "ok"


def test_every_simulated_status_goes_through_the_limits() -> None:
    options = SimOptions(time_factor=0.001, ccd_temp_c=4.0, latitude=0.0, longitude=0.0)
    devices = simulator_devices(options, focuser=True, dome=True)
    states = devices.statuses()
    assert list(states) == ["mount", "camera", "wheel", "weather", "focuser", "dome"]
    assert all(s.state == "ok" for s in states.values())
    assert states["dome"].properties["shutter"] == "closed"
    devices.limits = {
        "camera": {"temperature_c": Limit(max=-5)},
        "focuser": {"position": Limit(min=1_000, max=40_000)},
        "mount": {"altitude_deg": Limit(min=10)},
    }
    states = devices.statuses()
    assert states["camera"].state == "out-of-range" and "above its limit -5" in str(
        states["camera"].message
    )
    assert states["focuser"].state == "out-of-range"  # at 50000
    assert states["mount"].state == "ok"  # parked: not checked
    assert devices.focuser is not None
    devices.focuser.move_to(20_000)
    assert devices.statuses()["focuser"].state == "ok"
    with pytest.raises(DeviceError, match=r"outside 0\.\.100000"):
        devices.focuser.move_to(100_001)
    # A dome told to fail: the failed command keeps it in error, whatever it reports after.
    options.dome_fails_to_open = True
    with pytest.raises(DeviceError, match="the dome did not open"):
        devices.open_dome(5)
    assert devices.statuses()["dome"].state == "error"
    options.dome_fails_to_open = False
    devices.close_dome(5)  # a close that works clears it
    assert devices.statuses()["dome"].state == "ok"
    # The focuser and dome are optional: a site without them reports neither.
    assert list(simulator_devices(options).statuses()) == ["mount", "camera", "wheel", "weather"]


def test_limit_models_name_every_limitable_property() -> None:
    models = {"mount": MountLimits, "camera": CameraLimits, "focuser": FocuserLimits}
    models["dome"] = DomeLimits
    assert set(LimitsConfig.model_fields) == set(LIMIT_PROPERTIES)
    for device, names in LIMIT_PROPERTIES.items():
        assert tuple(models[device].model_fields) == names


MINIMAL = f"site_id: ond\nserver:\n  url: http://127.0.0.1:8000\n  key: {KEY}\n"


def test_focuser_dome_and_limit_keys_in_site_yaml(tmp_path: Path) -> None:
    text = render("ond", "http://127.0.0.1:8000", KEY, "simulator", None, "site.yaml")
    assert "focuser:" in text and "dome:" in text and "limits: {}" in text
    path = tmp_path / "site.yaml"
    path.write_text(
        MINIMAL + "dome: {enabled: true}\n"
        "limits:\n  mount: {altitude_deg: {min: 15, max: 88}}\n"
        "  camera:\n    temperature_c: {max: -5}\n"
    )
    config = load_config(path)
    assert config.dome.enabled and config.dome.timeout_seconds == 180
    assert not config.focuser.enabled
    assert config.limits.as_limits() == {
        "mount": {"altitude_deg": Limit(15, 88)},
        "camera": {"temperature_c": Limit(None, -5)},
    }
    devices = build_devices(config)
    assert devices.dome is not None and devices.focuser is None
    assert devices.limits["camera"]["temperature_c"].max == -5

    mistakes = [
        (
            "limits:\n  mount:\n    altitude: {min: 10}\n",
            ["site.yaml (line 7): limits.mount.altitude", "not a setting of site.yaml"],
        ),
        (
            "limits:\n  focuser:\n    position: {min: 9000, max: 100}\n",
            ["(line 7): limits.focuser.position: got {'min': 9000, 'max': 100}", "swap them"],
        ),
        ("limits:\n  camera:\n    temperature_c: {}\n", ["give min, max or both"]),
        ("limits:\n  roof: {}\n", ["limits.roof", "not a setting"]),
        ("dome:\n  timeout_seconds: -1\n", ["dome.timeout_seconds: got -1", "greater than 0"]),
        ("focuser: {enabled: maybe}\n", ["focuser.enabled: got 'maybe'", "boolean"]),
    ]
    for extra, expected in mistakes:
        path.write_text(MINIMAL + extra)
        with pytest.raises(ConfigError) as info:
            load_config(path)
        for part in expected:
            assert part in str(info.value), str(info.value)


def test_a_station_without_some_sensors_leaves_them_out(tmp_path: Path) -> None:
    # e.g. the INDI weather simulator: wind, gust, rain and temperature, no humidity or cloud.
    reading = WeatherReading(time.time(), wind_ms=3.0, rain=False)
    verdict = SafetyMonitor(SafetyConfig()).check(time.time(), -30.0, reading, {}, 1e6)
    assert not verdict.safe and verdict.reasons == ["humidity unknown", "cloud unknown"]
    config = SafetyConfig(required_readings=["wind", "rain"])
    assert SafetyMonitor(config).check(time.time(), -30.0, reading, {}, 1e6).safe
    blind = WeatherReading(time.time(), rain=False)  # a required reading still counts
    assert SafetyMonitor(config).check(time.time(), -30.0, blind, {}, 1e6).reasons == [
        "wind unknown"
    ]
    path = tmp_path / "site.yaml"
    path.write_text(MINIMAL + "safety:\n  required_readings: [wind, clouds]\n")
    with pytest.raises(ConfigError, match=r"safety.required_readings.1: got 'clouds'"):
        load_config(path)


# -- the agent ----------------------------------------------------------------------------
# Both database backends are exercised by test_agent_live.py; these are about the devices.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _agent(base: str, key: str, tmp_path: Path, limits: dict[str, Any] | None = None) -> Agent:
    config = SiteConfig.model_validate(
        {
            "site_id": "sim",
            "server": {"url": base, "key": key, "timeout_seconds": 5},
            "state_dir": str(tmp_path / "state"),
            "poll_seconds": 0.01,
            "heartbeat_seconds": 0.01,
            "device_deadline_seconds": 2,
            "safety": {"holdoff_seconds": 0.3, "min_free_disk_mb": 1},
            "simulator": {"time_factor": 0.001},
            "focuser": {"enabled": True},
            "dome": {"enabled": True, "timeout_seconds": 5},
            "limits": limits or {},
        }
    )
    devices = simulator_devices(SimOptions(time_factor=0.001), focuser=True, dome=True)
    devices.limits = config.limits.as_limits()
    return Agent(config, devices, ServerClient(base, key, 5))


def _calls(agent: Agent) -> list[str]:
    """Record the order of mount and dome commands."""
    calls: list[str] = []
    for device, name in [
        (agent.devices.mount, "unpark"),
        (agent.devices.mount, "park"),
        (agent.devices.dome, "open"),
        (agent.devices.dome, "close"),
    ]:
        method = getattr(device, name)

        def wrapped(method: Any = method, label: str = f"{type(device).__name__}.{name}") -> None:
            calls.append(label)
            method()

        setattr(device, name, wrapped)
    return calls


def _latest_heartbeat(base: str, key: str) -> dict[str, Any]:
    site = httpx.get(
        f"{base}/api/v1/sites/sim", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert site.status_code == 200, site.text
    return dict(site.json()["latest_heartbeat"])


@SQLITE_ONLY
def test_the_dome_opens_before_observing_and_closes_when_parking(
    night_site: dict, tmp_path: Path
) -> None:
    with api_server(night_site["db_url"]) as base:
        agent = _agent(base, night_site["key"], tmp_path)
        calls = _calls(agent)
        dome, options = agent.devices.dome, agent.devices.mount.options  # type: ignore[attr-defined]
        report = agent.cycle()
        assert report.observed == [night_site["target_ids"][0]] and report.queued == 2
        assert calls == ["SimDome.open", "SimMount.unpark"]  # the roof opens over a parked mount
        assert dome.shutter == "open"  # type: ignore[union-attr]
        options.wind_ms = 25.0
        report = agent.cycle()
        assert agent.state == "safe-hold" and any("wind" in r for r in report.reasons)
        assert calls[2:] == ["SimMount.park", "SimDome.close"]  # and closes over a parked one
        assert dome.shutter == "closed" and agent.devices.mount.parked  # type: ignore[union-attr, attr-defined]
        agent.cycle()  # its heartbeat reports the closed dome and the focuser
        beat = _latest_heartbeat(base, night_site["key"])
        assert beat["state"] == "safe-hold"
        assert beat["devices"]["dome"] == {"state": "ok", "message": None, "shutter": "closed"}
        assert beat["devices"]["focuser"]["position"] == 50_000
        for _, old, new in agent.history:
            assert new in TRANSITIONS[old]
        agent.close()


@SQLITE_ONLY
def test_a_dome_that_fails_to_close_keeps_the_agent_parked_in_error(
    night_site: dict, tmp_path: Path
) -> None:
    with api_server(night_site["db_url"]) as base:
        agent = _agent(base, night_site["key"], tmp_path)
        options = agent.devices.mount.options  # type: ignore[attr-defined]
        assert agent.cycle().observed
        options.dome_fails_to_close = True
        options.wind_ms = 25.0
        report = agent.cycle()
        assert agent.state == "error" and agent.devices.mount.parked  # type: ignore[attr-defined]
        # The weather clears, but the open dome is an error: the agent stays parked, retries
        # the close every cycle, observes nothing, and its heartbeat says why.
        options.wind_ms = 3.0
        time.sleep(0.4)  # past the weather hold-off
        for _ in range(2):
            report = agent.cycle()
            assert report.observed == [] and agent.state == "error"
            assert any("dome: the dome did not close" in r for r in report.reasons)
        assert agent.devices.mount.parked  # type: ignore[attr-defined]
        beat = _latest_heartbeat(base, night_site["key"])
        assert beat["devices"]["dome"]["state"] == "error"
        assert "the dome did not close" in beat["devices"]["dome"]["message"]
        assert "dome" in (beat["message"] or "")
        assert beat["weather"]["safe"] is False
        # Repaired: the next cycle closes it, the hold-off passes, observing resumes.
        options.dome_fails_to_close = False
        report = agent.cycle()
        assert agent.state == "safe-hold" and agent.devices.dome.shutter == "closed"  # type: ignore[union-attr]
        deadline = time.time() + 10
        while not report.observed and time.time() < deadline:
            time.sleep(0.1)
            report = agent.cycle()
        assert report.observed and agent.devices.dome.shutter == "open"  # type: ignore[union-attr]
        agent.close()


@SQLITE_ONLY
def test_a_mount_outside_its_altitude_limit_parks(night_site: dict, tmp_path: Path) -> None:
    with api_server(night_site["db_url"]) as base:
        # An alt-az mount's zenith keyhole: nothing above 80 deg. The best target (Z0) passes
        # 85 deg up at this site; the mount knows where it stands, so it reports its altitude.
        agent = _agent(
            base, night_site["key"], tmp_path, {"mount": {"altitude_deg": {"min": 15, "max": 80}}}
        )
        site = httpx.get(
            f"{base}/api/v1/sites/sim",
            headers={"Authorization": f"Bearer {night_site['key']}"},
            timeout=10,
        ).json()
        options = agent.devices.mount.options  # type: ignore[attr-defined]
        options.latitude, options.longitude = site["latitude"], site["longitude"]
        report = agent.cycle()
        assert report.observed == [] and report.queued == 0
        assert any("mount: altitude_deg" in r and "above its limit 80" in r for r in report.reasons)
        assert agent.state == "safe-hold" and agent.devices.mount.parked  # type: ignore[attr-defined]
        assert agent.devices.dome.shutter == "closed"  # type: ignore[union-attr]
        agent.close()
