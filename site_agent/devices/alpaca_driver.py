"""ASCOM Alpaca devices through alpyca (optional: `pip install datas[agent]` includes it).

At this boundary RA is in hours (the agent works in degrees), filter positions are 0-based (and
read -1 while the wheel moves), `ImageArray` comes as nested lists indexed [x][y] (transposed
here to numpy's [row][column]), and coordinates are J2000 unless the mount says it wants
topocentric (of date) ones. alpyca's own HTTP timeout is fixed; every call here also runs under
the agent's deadline (`with_deadline`), so a silent device becomes an error, never a hang.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx
import numpy as np

from datas_core.sky.precession import precess_unit_vectors
from datas_core.sky.time import julian_date
from datas_core.sky.vectors import radec_to_unit
from site_agent.devices.base import (
    DeviceError,
    Devices,
    DeviceStatus,
    Frame,
    Shutter,
    State,
    WeatherReading,
)

POLL_S = 0.2
SHUTTER: dict[int, Shutter] = {0: "open", 1: "closed", 2: "opening", 3: "closing", 4: "error"}


def _parse(url: str) -> str:
    if not url.startswith("alpaca://"):
        raise DeviceError(f"{url!r} is not an alpaca:// address, e.g. alpaca://127.0.0.1:11111")
    return url.removeprefix("alpaca://").rstrip("/")


def _wait(predicate: Any, what: str, timeout_s: float = 600.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise DeviceError(f"{what} did not finish within {timeout_s:.0f} s")
        time.sleep(POLL_S)


def _optional(device: Any, name: str) -> float | None:
    """A reading the device may not have (NotImplemented, or no such sensor)."""
    try:
        return float(getattr(device, name))
    except Exception:
        return None


class AlpacaMount:
    def __init__(self, address: str, number: int = 0) -> None:
        from alpaca.telescope import Telescope

        self.device = Telescope(address, number)

    def status(self) -> DeviceStatus:
        d = self.device
        if not d.Connected:
            d.Connected = True
        return DeviceStatus(
            "mount",
            properties={
                "ra_deg": d.RightAscension * 15.0,
                "dec_deg": d.Declination,
                "altitude_deg": _optional(d, "Altitude"),
                "parked": d.AtPark,
                "slewing": d.Slewing,
            },
        )

    def slew(self, ra_deg: float, dec_deg: float) -> None:
        d = self.device
        ra, dec = ra_deg, dec_deg
        if d.EquatorialSystem == 1:  # topocentric: coordinates of date
            jd = float(julian_date(datetime.now(timezone.utc)))
            x, y, z = precess_unit_vectors(radec_to_unit(ra_deg, dec_deg), jd)
            ra, dec = float(np.degrees(np.arctan2(y, x)) % 360), float(np.degrees(np.arcsin(z)))
        if d.AtPark:
            raise DeviceError("the mount is parked; unpark first")
        if d.CanSetTracking and not d.Tracking:
            d.Tracking = True
        d.SlewToCoordinatesAsync(ra / 15.0, dec)
        _wait(lambda: not d.Slewing, "slew")

    def park(self) -> None:
        d = self.device
        if not d.AtPark:
            d.Park()
            _wait(lambda: d.AtPark, "park")

    def unpark(self) -> None:
        if self.device.AtPark:
            self.device.Unpark()


class AlpacaWheel:
    def __init__(self, address: str, number: int = 0) -> None:
        from alpaca.filterwheel import FilterWheel

        self.device = FilterWheel(address, number)

    def status(self) -> DeviceStatus:
        d = self.device
        if not d.Connected:
            d.Connected = True
        names = list(d.Names)
        position = d.Position
        current = names[position] if 0 <= position < len(names) else None
        state: State = "ok" if current is not None else "not-ready"
        return DeviceStatus("wheel", state, properties={"filter": current, "filters": names})

    def select(self, name: str) -> None:
        d = self.device
        names = list(d.Names)
        if name not in names:
            raise DeviceError(f"filter {name!r} is not in the wheel ({', '.join(names)})")
        d.Position = names.index(name)  # 0-based at the Alpaca boundary
        _wait(lambda: d.Position == names.index(name), "filter change", 120)


class AlpacaCamera:
    def __init__(self, address: str, mount: AlpacaMount, number: int = 0) -> None:
        from alpaca.camera import Camera

        self.device = Camera(address, number)
        self.mount = mount

    def status(self) -> DeviceStatus:
        d = self.device
        if not d.Connected:
            d.Connected = True
        state = d.CameraState
        # CameraState 5 is error (e.g. the simulator could not fetch a star catalog offline).
        return DeviceStatus(
            "camera",
            "error" if int(state) == 5 else "ok",
            None if int(state) != 5 else "camera reports an error; AbortExposure resets it",
            {
                "width": d.CameraXSize,
                "height": d.CameraYSize,
                "camera_state": int(state),  # Alpaca CameraState: 0 idle ... 5 error
                "temperature_c": _optional(d, "CCDTemperature"),
            },
        )

    def expose(self, seconds: float, light: bool, filter_name: str) -> Frame:
        d = self.device
        start = datetime.now(timezone.utc)
        d.StartExposure(seconds, light)
        _wait(lambda: d.ImageReady or int(d.CameraState) == 5, "exposure", seconds + 120)
        if int(d.CameraState) == 5:
            d.AbortExposure()
            raise DeviceError("the camera failed during the exposure")
        data = np.asarray(d.ImageArray).T  # Alpaca [x][y] -> numpy [row=y][col=x]
        header: dict[str, Any] = {
            "DATE-OBS": start.isoformat(timespec="milliseconds").replace("+00:00", ""),
            "EXPTIME": float(seconds),
            "FILTER": filter_name,
            "IMAGETYP": "Light Frame" if light else "Dark Frame",
            "INSTRUME": str(d.Name)[:68],
        }
        try:
            pointing = self.mount.status().properties
            header["RA"], header["DEC"] = pointing["ra_deg"], pointing["dec_deg"]
        except Exception:  # the frame matters more than its pointing keywords
            pass
        return Frame(data=np.clip(data, 0, 65535).astype(np.uint16), header=header)


class AlpacaWeather:
    def __init__(self, address: str, number: int = 0) -> None:
        from alpaca.observingconditions import ObservingConditions

        self.device = ObservingConditions(address, number)

    def status(self) -> DeviceStatus:
        if not self.device.Connected:
            self.device.Connected = True
        return DeviceStatus(
            "weather",
            properties={"wind_ms": self.device.WindSpeed, "cloud_pct": self.device.CloudCover},
        )

    def read(self) -> WeatherReading:
        d = self.device
        if not d.Connected:
            d.Connected = True
        rain_rate = _optional(d, "RainRate")
        return WeatherReading(
            timestamp=time.time(),
            wind_ms=_optional(d, "WindSpeed"),
            humidity_pct=_optional(d, "Humidity"),
            cloud_pct=_optional(d, "CloudCover"),
            rain=None if rain_rate is None else rain_rate > 0,
            sky_temp_c=_optional(d, "SkyTemperature"),
        )


class AlpacaFocuser:
    def __init__(self, address: str, number: int = 0) -> None:
        from alpaca.focuser import Focuser

        self.device = Focuser(address, number)

    def status(self) -> DeviceStatus:
        d = self.device
        if not d.Connected:
            d.Connected = True
        if not d.Absolute:
            return DeviceStatus("focuser", "not-ready", "a relative focuser: positions unknown")
        return DeviceStatus(
            "focuser",
            properties={
                "position": int(d.Position),
                "min_position": 0,
                "max_position": int(d.MaxStep),
                "moving": bool(d.IsMoving),
                "temperature_c": _optional(d, "Temperature"),
            },
        )

    def move_to(self, position: int) -> None:
        d = self.device
        top = int(d.MaxStep)
        if not 0 <= position <= top:  # Alpaca would clamp silently; the agent refuses
            raise DeviceError(f"focuser position {position} is outside 0..{top}")
        d.Move(int(position))
        _wait(lambda: not d.IsMoving, "focuser move", 300)
        if int(d.Position) != position:
            raise DeviceError(f"the focuser stopped at {d.Position}, not {position}")


class AlpacaDome:
    def __init__(self, address: str, number: int = 0) -> None:
        from alpaca.dome import Dome

        self.device = Dome(address, number)

    def _shutter(self) -> Shutter:
        return SHUTTER.get(int(self.device.ShutterStatus), "unknown")

    def status(self) -> DeviceStatus:
        d = self.device
        if not d.Connected:
            d.Connected = True
        shutter = self._shutter()
        return DeviceStatus(
            "dome",
            "error" if shutter == "error" else "ok",
            "the shutter reports an error" if shutter == "error" else None,
            {"shutter": shutter, "azimuth_deg": _optional(d, "Azimuth"), "slewing": d.Slewing},
        )

    def open(self) -> None:
        self._move("open")

    def close(self) -> None:
        self._move("closed")

    def _move(self, to: Shutter) -> None:
        d = self.device
        if not d.Connected:
            d.Connected = True
        if self._shutter() == to:
            return
        if not d.CanSetShutter:
            raise DeviceError("this dome cannot move its shutter by command")
        if to == "open":
            d.OpenShutter()
        else:
            d.CloseShutter()
        _wait(lambda: self._shutter() in (to, "error"), f"shutter {to}")
        if self._shutter() != to:
            raise DeviceError(f"the shutter reports an error instead of {to}")


def alpaca_devices(url: str, focuser: bool = False, dome: bool = False) -> Devices:
    """Device number 0 of each type; focuser and dome only if the site has them."""
    address = _parse(url)
    mount = AlpacaMount(address)
    return Devices(
        mount=mount,
        camera=AlpacaCamera(address, mount),
        wheel=AlpacaWheel(address),
        weather=AlpacaWeather(address),
        focuser=AlpacaFocuser(address) if focuser else None,
        dome=AlpacaDome(address) if dome else None,
    )


# -- discovery ------------------------------------------------------------------------------
DEVICE_TYPES = (
    "telescope",
    "camera",
    "filterwheel",
    "focuser",
    "dome",
    "observingconditions",
    "safetymonitor",
    "rotator",
    "switch",
    "covercalibrator",
)


@dataclass
class AlpacaServer:
    address: str  # HOST:PORT
    devices: list[tuple[str, int, str]] = field(default_factory=list)  # (type, number, name)
    how: str = "management API"  # or "probed" when the management API does not answer


def discover(timeout_s: float = 2.0, queries: int = 1) -> list[AlpacaServer]:
    """Alpaca servers answering discovery on the LAN (UDP 32227), with the devices each serves."""
    from alpaca import discovery

    found = discovery.search_ipv4(numquery=queries, timeout=timeout_s)
    return [describe_server(address, timeout_s) for address in found]


def describe_server(address: str, timeout_s: float = 2.0) -> AlpacaServer:
    """The management API's device list; servers without one (alpaca-simulators answers 404)
    are probed for device 0 of each type."""
    query = {"ClientID": 1, "ClientTransactionID": 1}
    with httpx.Client(base_url=f"http://{address}", timeout=timeout_s) as http:
        try:
            r = http.get("/management/v1/configureddevices", params=query)
            body = r.json() if r.status_code == 200 else {}
            if isinstance(body, dict) and isinstance(body.get("Value"), list) and body["Value"]:
                return AlpacaServer(
                    address,
                    [
                        (str(d["DeviceType"]).lower(), int(d["DeviceNumber"]), str(d["DeviceName"]))
                        for d in body["Value"]
                    ],
                )
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            pass
        server = AlpacaServer(address, how="probed")
        for kind in DEVICE_TYPES:
            try:
                r = http.get(f"/api/v1/{kind}/0/name", params=query)
                body = r.json() if r.status_code == 200 else {}
            except (httpx.HTTPError, ValueError):
                continue
            if isinstance(body, dict) and body.get("ErrorNumber", 0) == 0 and "Value" in body:
                server.devices.append((kind, 0, str(body["Value"])))
        return server
