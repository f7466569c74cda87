"""The INDI driver against Debian's indiserver and simulators: telescope, CCD, wheel, weather,
focuser and dome."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from site_agent.config import SafetyConfig
from site_agent.devices.base import DeviceError, Limit, with_deadline
from site_agent.safety import SafetyMonitor
from tests.agent.simulators import indi_server

DRIVERS = [
    "indi_simulator_telescope",
    "indi_simulator_ccd",
    "indi_simulator_wheel",
    "indi_simulator_weather",
    "indi_simulator_focus",
    "indi_simulator_dome",
]


@pytest.fixture(scope="module")
def indi_url() -> Iterator[str]:
    with indi_server(DRIVERS) as url:
        yield url


def test_mount_ccd_wheel_and_weather_through_indi(indi_url: str) -> None:
    from site_agent.devices.indi_driver import indi_devices

    devices = indi_devices(indi_url)
    session = devices.mount.s  # type: ignore[attr-defined]
    try:
        states = devices.statuses()
        assert {n: s.state for n, s in states.items()} == {
            "mount": "ok",
            "camera": "ok",
            "wheel": "ok",
            "weather": "ok",
        }
        with_deadline(devices.mount.unpark, 60, "unpark")
        with_deadline(lambda: devices.mount.slew(150.0, 20.0), 180, "slew")  # J2000 in
        where = devices.mount.status().properties  # of date out: precession moved it
        assert 0.2 < abs(where["ra_deg"] - 150.0) < 0.6 and abs(where["dec_deg"] - 20.0) < 0.3
        names = states["wheel"].properties["filters"]
        with_deadline(lambda: devices.wheel.select(names[2]), 60, "wheel")
        assert devices.wheel.status().properties["filter"] == names[2]
        with pytest.raises(DeviceError, match="not in the wheel"):
            devices.wheel.select("Halpha")
        frame = with_deadline(lambda: devices.camera.expose(1.0, True, names[2]), 120, "ccd")
        assert frame.data.ndim == 2 and frame.data.shape[0] > 100 and frame.data.shape[1] > 100
        assert frame.header["NAXIS"] == 2 and frame.header["EXPTIME"] == 1.0
        reading = devices.weather.read()
        assert reading.wind_ms is not None and reading.rain is not None
        # Raise the simulator's wind: the safety monitor says unsafe and names the wind.
        control = session.number(devices.weather.dev, "WEATHER_CONTROL")  # type: ignore[attr-defined]
        for element in control:
            if element.getName() == "Wind":
                element.setValue(80.0)  # km/h
        session.client.sendNewProperty(control)
        refresh_deadline = time.time() + 30
        while (devices.weather.read().wind_ms or 0) < 15 and time.time() < refresh_deadline:
            session.set_switch(devices.weather.dev, "WEATHER_REFRESH", "REFRESH")  # type: ignore[attr-defined]
            time.sleep(0.5)
        windy = devices.weather.read()
        assert windy.wind_ms is not None and windy.wind_ms > 15
        verdict = SafetyMonitor(SafetyConfig()).check(
            time.time(), -30.0, windy, {}, free_disk_mb=1e6
        )
        assert not verdict.safe and any("wind" in r for r in verdict.reasons)
        # Park where it points (the simulator's default park position is a 30 s slew away).
        session.set_switch(devices.mount.dev, "TELESCOPE_PARK_OPTION", "PARK_CURRENT")  # type: ignore[attr-defined]
        with_deadline(devices.mount.park, 180, "park")
        assert devices.mount.status().properties["parked"] is True
    finally:
        session.close()


def test_focuser_and_dome_through_indi(indi_url: str) -> None:
    from site_agent.devices.indi_driver import indi_devices

    devices = indi_devices(indi_url, focuser=True, dome=True)
    session = devices.mount.s  # type: ignore[attr-defined]
    assert devices.focuser is not None and devices.dome is not None
    try:
        states = devices.statuses()
        assert states["focuser"].state == "ok" and states["dome"].state == "ok"
        assert states["camera"].properties["temperature_c"] is not None  # CCD_TEMPERATURE
        focuser = states["focuser"].properties
        assert focuser["min_position"] == 0 and focuser["max_position"] > 50_000
        with_deadline(lambda: devices.focuser.move_to(30_500), 60, "focuser")  # type: ignore[union-attr]
        assert devices.focuser.status().properties["position"] == 30_500
        with pytest.raises(DeviceError, match="outside"):
            devices.focuser.move_to(focuser["max_position"] + 1)
        devices.limits = {"focuser": {"position": Limit(max=20_000)}}
        limited = devices.statuses()["focuser"]
        assert limited.state == "out-of-range"
        assert "position 30500 above its limit 20000" in (limited.message or "")
        assert states["dome"].properties["shutter"] == "closed"
        with_deadline(lambda: devices.open_dome(60), 70, "dome")
        assert devices.dome.status().properties["shutter"] == "open"
        with_deadline(lambda: devices.close_dome(60), 70, "dome")
        assert devices.dome.status().properties["shutter"] == "closed"
    finally:
        session.close()
