"""ASCOM Alpaca devices through alpyca (optional: `pip install datas[agent]` includes it).

At this boundary RA is in hours (the agent works in degrees), filter positions are 0-based (and
read -1 while the wheel moves), `ImageArray` comes as nested lists indexed [x][y] (transposed
here to numpy's [row][column]), and coordinates are J2000 unless the mount says it wants
topocentric (of date) ones. alpyca's own HTTP timeout is fixed; every call here also runs under
the agent's deadline (`with_deadline`), so a silent device becomes an error, never a hang.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import numpy as np

from datas_core.sky.precession import precess_unit_vectors
from datas_core.sky.time import julian_date
from datas_core.sky.vectors import radec_to_unit
from site_agent.devices.base import DeviceError, Devices, DeviceStatus, Frame, WeatherReading

POLL_S = 0.2


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
        state = "ok" if current is not None else "not-ready"
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
            {"width": d.CameraXSize, "height": d.CameraYSize, "state": int(state)},
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

        def optional(name: str) -> float | None:
            try:
                return float(getattr(d, name))
            except Exception:  # a sensor the station does not have
                return None

        rain_rate = optional("RainRate")
        return WeatherReading(
            timestamp=time.time(),
            wind_ms=optional("WindSpeed"),
            humidity_pct=optional("Humidity"),
            cloud_pct=optional("CloudCover"),
            rain=None if rain_rate is None else rain_rate > 0,
            sky_temp_c=optional("SkyTemperature"),
        )


def alpaca_devices(url: str) -> Devices:
    address = _parse(url)
    mount = AlpacaMount(address)
    return Devices(
        mount=mount,
        camera=AlpacaCamera(address, mount),
        wheel=AlpacaWheel(address),
        weather=AlpacaWeather(address),
    )


def discover(timeout_s: float = 2.0) -> list[str]:
    """Alpaca servers answering discovery on the LAN (UDP 32227), as alpaca:// addresses."""
    from alpaca import discovery

    return [f"alpaca://{addr}" for addr in discovery.search_ipv4(timeout=int(max(1, timeout_s)))]
