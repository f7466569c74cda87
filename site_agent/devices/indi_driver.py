"""INDI devices through pyindi-client (optional extra: `pip install datas[agent,indi]`).

At this boundary coordinates are RA hours and Dec degrees of date (EQUATORIAL_EOD_COORD, so
J2000 is precessed here), filter slots are 1-based, and images arrive as BLOBs on INDI's own
thread: the callback only copies the bytes out and signals. Devices are found by their driver
interface (telescope, CCD, filter wheel, weather). Every call also runs under the agent's
deadline. INDI weather stations report wind in km/h; the agent works in m/s.
"""

from __future__ import annotations

import io
import threading
import time
from datetime import datetime, timezone
from typing import Any

import numpy as np

from datas_core.sky.precession import precess_unit_vectors
from datas_core.sky.time import julian_date
from datas_core.sky.vectors import radec_to_unit
from site_agent.devices.base import DeviceError, Devices, DeviceStatus, Frame, WeatherReading

POLL_S = 0.2


def _pyindi() -> Any:
    try:
        import PyIndi
    except ImportError as exc:
        raise DeviceError(
            "the indi driver needs pyindi-client: pip install 'datas[agent,indi]' (it builds "
            "against libindi-dev, swig, libcfitsio-dev, libnova-dev, zlib1g-dev, libdbus-1-dev "
            "and libglib2.0-dev)"
        ) from exc
    return PyIndi


def _wait(predicate: Any, what: str, timeout_s: float = 600.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise DeviceError(f"{what} did not finish within {timeout_s:.0f} s")
        time.sleep(POLL_S)


class IndiSession:
    """One connection to an indiserver, shared by the device wrappers."""

    def __init__(self, host: str, port: int) -> None:
        indi = _pyindi()
        session = self

        class Client(indi.BaseClient):  # type: ignore[misc, name-defined]
            def updateProperty(self, prop: Any) -> None:
                if prop.getType() == indi.INDI_BLOB:
                    for element in indi.PropertyBlob(prop):
                        # Copy out of INDI's thread at once; the reader waits on the event.
                        session.blob = bytes(element.getblobdata())
                        session.blob_ready.set()

        self.indi = indi
        self.blob: bytes | None = None
        self.blob_ready = threading.Event()
        self.client = Client()
        self.client.setServer(host, port)
        if not self.client.connectServer():
            raise DeviceError(f"no indiserver answers on {host}:{port}")
        _wait(lambda: len(self.client.getDevices()) > 0, "INDI device list", 20)
        time.sleep(0.5)  # let every driver announce itself

    def device(self, interface: int, what: str) -> Any:
        for dev in self.client.getDevices():
            if dev.getDriverInterface() & interface:
                if not dev.isConnected():
                    switch = self._property(dev, "getSwitch", "CONNECTION")
                    switch[0].setState(self.indi.ISS_ON)
                    switch[1].setState(self.indi.ISS_OFF)
                    self.client.sendNewProperty(switch)
                    _wait(dev.isConnected, f"connecting {dev.getDeviceName()}", 30)
                return dev
        raise DeviceError(f"the indiserver has no {what}")

    def _property(self, dev: Any, getter: str, name: str, timeout_s: float = 20) -> Any:
        prop = None

        def ready() -> bool:
            nonlocal prop
            prop = getattr(dev, getter)(name)
            return bool(prop)

        _wait(ready, f"{dev.getDeviceName()} {name}", timeout_s)
        return prop

    def number(self, dev: Any, name: str) -> Any:
        return self._property(dev, "getNumber", name)

    def switch(self, dev: Any, name: str) -> Any:
        return self._property(dev, "getSwitch", name)

    def text(self, dev: Any, name: str) -> Any:
        return self._property(dev, "getText", name)

    def set_switch(self, dev: Any, name: str, on: str) -> None:
        prop = self.switch(dev, name)
        for element in prop:
            element.setState(self.indi.ISS_ON if element.getName() == on else self.indi.ISS_OFF)
        self.client.sendNewProperty(prop)

    def close(self) -> None:
        self.client.disconnectServer()


class IndiMount:
    def __init__(self, session: IndiSession) -> None:
        self.s = session
        self.dev = session.device(session.indi.BaseDevice.TELESCOPE_INTERFACE, "telescope")

    def _parked(self) -> bool:
        park = self.s.switch(self.dev, "TELESCOPE_PARK")
        return any(e.getName() == "PARK" and e.getState() == self.s.indi.ISS_ON for e in park)

    def status(self) -> DeviceStatus:
        eq = self.s.number(self.dev, "EQUATORIAL_EOD_COORD")
        state = "error" if eq.getState() == self.s.indi.IPS_ALERT else "ok"
        return DeviceStatus(
            "mount",
            state,
            properties={
                "ra_deg": eq[0].getValue() * 15.0,
                "dec_deg": eq[1].getValue(),
                "parked": self._parked(),
                "of_date": True,
            },
        )

    def slew(self, ra_deg: float, dec_deg: float) -> None:
        if self._parked():
            raise DeviceError("the mount is parked; unpark first")
        jd = float(julian_date(datetime.now(timezone.utc)))
        x, y, z = precess_unit_vectors(radec_to_unit(ra_deg, dec_deg), jd)
        ra_date = float(np.degrees(np.arctan2(y, x)) % 360.0)
        dec_date = float(np.degrees(np.arcsin(z)))
        self.s.set_switch(self.dev, "ON_COORD_SET", "TRACK")
        eq = self.s.number(self.dev, "EQUATORIAL_EOD_COORD")
        eq[0].setValue(ra_date / 15.0)
        eq[1].setValue(dec_date)
        self.s.client.sendNewProperty(eq)
        time.sleep(POLL_S)
        _wait(lambda: eq.getState() != self.s.indi.IPS_BUSY, "slew")
        if eq.getState() == self.s.indi.IPS_ALERT:
            raise DeviceError("the mount refused the slew")

    def park(self) -> None:
        self.s.set_switch(self.dev, "TELESCOPE_PARK", "PARK")
        _wait(self._parked, "park")

    def unpark(self) -> None:
        if self._parked():
            self.s.set_switch(self.dev, "TELESCOPE_PARK", "UNPARK")
            _wait(lambda: not self._parked(), "unpark", 60)


class IndiWheel:
    def __init__(self, session: IndiSession) -> None:
        self.s = session
        self.dev = session.device(session.indi.BaseDevice.FILTER_INTERFACE, "filter wheel")

    def names(self) -> list[str]:
        return [e.getText() for e in self.s.text(self.dev, "FILTER_NAME")]

    def status(self) -> DeviceStatus:
        slot = int(self.s.number(self.dev, "FILTER_SLOT")[0].getValue())
        names = self.names()
        current = names[slot - 1] if 1 <= slot <= len(names) else None
        return DeviceStatus("wheel", properties={"filter": current, "filters": names})

    def select(self, name: str) -> None:
        names = self.names()
        if name not in names:
            raise DeviceError(f"filter {name!r} is not in the wheel ({', '.join(names)})")
        slot = self.s.number(self.dev, "FILTER_SLOT")
        slot[0].setValue(names.index(name) + 1)  # 1-based at the INDI boundary
        self.s.client.sendNewProperty(slot)
        _wait(
            lambda: (
                int(slot[0].getValue()) == names.index(name) + 1
                and slot.getState() != self.s.indi.IPS_BUSY
            ),
            "filter change",
            120,
        )


class IndiCamera:
    def __init__(self, session: IndiSession) -> None:
        self.s = session
        self.dev = session.device(session.indi.BaseDevice.CCD_INTERFACE, "camera")
        session.client.setBLOBMode(session.indi.B_ALSO, self.dev.getDeviceName(), None)

    def status(self) -> DeviceStatus:
        exposure = self.s.number(self.dev, "CCD_EXPOSURE")
        state = "error" if exposure.getState() == self.s.indi.IPS_ALERT else "ok"
        return DeviceStatus("camera", state)

    def expose(self, seconds: float, light: bool, filter_name: str) -> Frame:
        from astropy.io import fits

        self.s.set_switch(self.dev, "CCD_FRAME_TYPE", "FRAME_LIGHT" if light else "FRAME_DARK")
        self.s.blob_ready.clear()
        start = datetime.now(timezone.utc)
        exposure = self.s.number(self.dev, "CCD_EXPOSURE")
        exposure[0].setValue(float(seconds))
        self.s.client.sendNewProperty(exposure)
        if not self.s.blob_ready.wait(seconds + 120):
            raise DeviceError("the camera sent no image")
        data = self.s.blob or b""
        try:
            with fits.open(io.BytesIO(data)) as hdul:
                image = np.asarray(hdul[0].data)
                header = {k: v for k, v in hdul[0].header.items() if k and k != "COMMENT"}
        except (OSError, ValueError) as exc:
            raise DeviceError(f"the camera's image is not a readable FITS file: {exc}") from exc
        header.setdefault("DATE-OBS", start.isoformat(timespec="milliseconds")[:23])
        header["EXPTIME"] = float(seconds)
        header["FILTER"] = filter_name
        return Frame(data=np.clip(image, 0, 65535).astype(np.uint16), header=header)


class IndiWeather:
    def __init__(self, session: IndiSession) -> None:
        self.s = session
        self.dev = session.device(session.indi.BaseDevice.WEATHER_INTERFACE, "weather station")

    def status(self) -> DeviceStatus:
        return DeviceStatus("weather", properties=self._values())

    def _values(self) -> dict[str, float]:
        params = self.s.number(self.dev, "WEATHER_PARAMETERS")
        return {e.getName(): float(e.getValue()) for e in params}

    def read(self) -> WeatherReading:
        v = self._values()
        wind_kmh = v.get("WEATHER_WIND_SPEED")
        rain = v.get("WEATHER_RAIN_HOUR")
        clouds = v.get("WEATHER_CLOUD_COVER")
        return WeatherReading(
            timestamp=time.time(),
            wind_ms=None if wind_kmh is None else wind_kmh / 3.6,
            humidity_pct=v.get("WEATHER_HUMIDITY"),
            cloud_pct=clouds,
            rain=None if rain is None else rain > 0,
            sky_temp_c=v.get("WEATHER_SKY_TEMPERATURE"),
        )


def indi_devices(url: str) -> Devices:
    if not url.startswith("indi://"):
        raise DeviceError(f"{url!r} is not an indi:// address, e.g. indi://127.0.0.1:7624")
    host, _, port = url.removeprefix("indi://").rstrip("/").partition(":")
    session = IndiSession(host or "127.0.0.1", int(port or 7624))
    return Devices(
        mount=IndiMount(session),
        camera=IndiCamera(session),
        wheel=IndiWheel(session),
        weather=IndiWeather(session),
    )
