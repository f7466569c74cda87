"""The Alpaca driver against the real ASCOM Alpaca simulators (alpaca-simulators on 127.0.0.1)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from benchmarks.harness import free_port
from site_agent.devices.base import DeviceError, Limit, with_deadline
from tests.agent.simulators import alpaca_simulators


@pytest.fixture(scope="module")
def alpaca_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with alpaca_simulators(tmp_path_factory.mktemp("alpaca")) as url:
        yield url


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


def test_focuser_and_dome_through_alpaca(alpaca_url: str) -> None:
    from site_agent.devices.alpaca_driver import alpaca_devices

    devices = alpaca_devices(alpaca_url, focuser=True, dome=True)
    assert devices.focuser is not None and devices.dome is not None
    states = devices.statuses()
    assert states["focuser"].state == "ok" and states["dome"].state == "ok"
    top = states["focuser"].properties["max_position"]
    with_deadline(lambda: devices.focuser.move_to(12_345), 30, "focuser")  # type: ignore[union-attr]
    assert devices.focuser.status().properties["position"] == 12_345
    # Alpaca clamps a Move outside 0..MaxStep silently; the agent refuses it instead.
    with pytest.raises(DeviceError, match="outside"):
        devices.focuser.move_to(top + 1)
    assert devices.focuser.status().properties["position"] == 12_345
    # A limit from site.yaml makes the focuser out-of-range, and says why.
    devices.limits = {"focuser": {"position": Limit(min=20_000, max=60_000)}}
    focuser = devices.statuses()["focuser"]
    assert focuser.state == "out-of-range" and "position 12345 below" in (focuser.message or "")
    with_deadline(lambda: devices.open_dome(30), 40, "dome")
    assert devices.dome.status().properties["shutter"] == "open"
    with_deadline(lambda: devices.close_dome(30), 40, "dome")
    assert devices.dome.status().properties["shutter"] == "closed"


class _DiscoveryResponder:
    """Answers the Alpaca discovery protocol (`alpacadiscovery1` -> {"AlpacaPort": N}) on UDP,
    as an Alpaca server does on port 32227 (here on a free port: alpaca-simulators does not
    answer discovery itself)."""

    def __init__(self, alpaca_port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("0.0.0.0", 0))  # broadcasts reach a socket bound to all addresses
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.reply = json.dumps({"AlpacaPort": alpaca_port}).encode()
        self.queries = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(1024)
            except OSError:
                continue
            if data.startswith(b"alpacadiscovery1"):
                self.queries += 1
                self.sock.sendto(self.reply, peer)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()


def test_discover_lists_servers_and_their_devices(
    alpaca_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alpaca.discovery

    from site_agent.cli import main

    port = int(alpaca_url.rsplit(":", 1)[1])
    responder = _DiscoveryResponder(port)
    monkeypatch.setattr(alpaca.discovery, "port", responder.port)  # instead of 32227
    try:
        start = time.monotonic()
        result = CliRunner().invoke(main, ["discover", "--timeout", "0.5"])
        took = time.monotonic() - start
    finally:
        responder.close()
    assert result.exit_code == 0, result.output
    assert responder.queries >= 1 and took < 30
    # alpaca-simulators has no management API (404): its devices were found by probing.
    assert f"alpaca://127.0.0.1:{port}  (10 devices, probed)" in result.output
    for line in ("telescope 0: Simulator Telescope", "camera 0:", "dome 0:", "focuser 0:"):
        assert line in result.output
    assert f"use: --device-url alpaca://127.0.0.1:{port}" in result.output


def test_discover_says_when_nothing_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    import alpaca.discovery

    from site_agent.cli import main

    monkeypatch.setattr(alpaca.discovery, "port", free_port())  # nobody listens there
    result = CliRunner().invoke(main, ["discover", "--timeout", "0.3"])
    assert result.exit_code == 1 and "no Alpaca server answered" in result.output
