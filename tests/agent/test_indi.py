"""The INDI driver against Debian's indiserver and simulators: telescope, CCD, wheel, weather."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from benchmarks.harness import free_port
from site_agent.config import SafetyConfig
from site_agent.devices.base import DeviceError, with_deadline
from site_agent.safety import SafetyMonitor

DRIVERS = [
    "indi_simulator_telescope",
    "indi_simulator_ccd",
    "indi_simulator_wheel",
    "indi_simulator_weather",
]


def _missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def indi_url() -> Iterator[str]:
    if shutil.which("indiserver") is None:
        _missing("indiserver is missing: apt-get install indi-bin (scripts/system-packages.txt)")
    try:
        import PyIndi  # noqa: F401
    except ImportError:
        _missing("pyindi-client is missing: pip install 'datas[indi]' (see docs/AGENT.md)")
    port = free_port()
    proc = subprocess.Popen(
        ["indiserver", "-p", str(port), *DRIVERS],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                proc.wait()
                pytest.fail("indiserver did not start")
            time.sleep(0.2)
    yield f"indi://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


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
        with_deadline(devices.mount.park, 180, "park")
        assert devices.mount.status().properties["parked"] is True
    finally:
        session.close()
