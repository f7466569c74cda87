"""The Alpaca driver against the real ASCOM Alpaca simulators (alpaca-simulators on 127.0.0.1)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.harness import free_port
from site_agent.devices.base import DeviceError, with_deadline


@pytest.fixture(scope="module")
def alpaca_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("alpaca-simulators") or str(
        Path(sys.executable).parent / "alpaca-simulators"
    )
    if not Path(exe).exists():
        message = "alpaca-simulators is not installed: pip install alpaca-simulators"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    cwd = tmp_path_factory.mktemp("alpaca")
    proc = subprocess.Popen(
        [exe, "--port", str(port)], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 60
    while True:
        try:
            # (its management API answers 404; a device endpoint tells it is up)
            probe = f"http://127.0.0.1:{port}/api/v1/telescope/0/connected"
            if httpx.get(probe, timeout=2).is_success:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail("alpaca-simulators did not start")
        time.sleep(0.3)
    yield f"alpaca://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


def test_mount_wheel_camera_and_weather_through_alpaca(alpaca_url: str) -> None:
    from site_agent.devices.alpaca_driver import alpaca_devices

    devices = alpaca_devices(alpaca_url)
    states = devices.statuses()
    assert {n: s.state for n, s in states.items()} == {
        "mount": "ok",
        "camera": "ok",
        "wheel": "ok",
        "weather": "ok",
    }
    mount = devices.mount
    with_deadline(mount.unpark, 30, "unpark")
    ra_deg = states["mount"].properties["ra_deg"]
    target_ra = (ra_deg + 30.0) % 360  # degrees in, hours at the Alpaca boundary
    with_deadline(lambda: mount.slew(target_ra, 20.0), 180, "slew")
    where = mount.status().properties
    assert abs((where["ra_deg"] - target_ra + 180) % 360 - 180) < 0.05
    assert abs(where["dec_deg"] - 20.0) < 0.05
    names = states["wheel"].properties["filters"]
    with_deadline(lambda: devices.wheel.select(names[2]), 60, "wheel")
    assert devices.wheel.status().properties["filter"] == names[2]
    with pytest.raises(DeviceError, match="not in the wheel"):
        devices.wheel.select("Halpha")
    frame = with_deadline(lambda: devices.camera.expose(0.2, False, names[2]), 60, "dark")
    width = devices.camera.status().properties["width"]
    height = devices.camera.status().properties["height"]
    assert frame.data.shape == (height, width) and frame.data.dtype.name == "uint16"
    assert frame.header["IMAGETYP"] == "Dark Frame" and frame.header["EXPTIME"] == 0.2
    reading = devices.weather.read()
    assert reading.wind_ms is not None and reading.cloud_pct is not None
    with_deadline(mount.park, 180, "park")
    assert mount.status().properties["parked"] is True


def test_a_dead_alpaca_address_is_a_device_error_not_a_hang() -> None:
    from site_agent.devices.alpaca_driver import alpaca_devices

    devices = alpaca_devices(f"alpaca://127.0.0.1:{free_port()}")
    start = time.monotonic()
    states = devices.statuses()
    assert all(s.state == "error" for s in states.values())
    assert time.monotonic() - start < 60
