"""INDI devices through pyindi-client (optional extra: `pip install datas[agent,indi]`).

At this boundary coordinates are RA hours and Dec degrees of date (EQUATORIAL_EOD_COORD, so
J2000 is precessed here), filter slots are 1-based, and images arrive as BLOBs on INDI's own
thread: the callback only copies the bytes out and signals. Devices are found by their driver
interface (telescope, CCD, filter wheel, weather, and if the site has them focuser and dome).
Every call also runs under the agent's deadline. INDI weather stations report wind in km/h; the
agent works in m/s.
"""

from __future__ import annotations

import io
import threading
import time
from datetime import datetime, timezone
from typing import Any

import numpy as np

from datas_core.sky.altaz import altaz_of_date_deg
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

    def set_switch(self, dev: Any, name: str, on: str) -> Any:
        prop = self.switch(dev, name)
        for element in prop:
            element.setState(self.indi.ISS_ON if element.getName() == on else self.indi.ISS_OFF)
        # Busy until the driver answers: a wait on this state never sees the old OK.
        prop.setState(self.indi.IPS_BUSY)
        self.client.sendNewProperty(prop)
        return prop

    def optional_numbers(self, dev: Any, name: str) -> dict[str, float]:
        """A number vector the driver may not have, without waiting for it."""
        prop = dev.getNumber(name)
        return {e.getName(): float(e.getValue()) for e in prop} if prop else {}

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
        state: State = "error" if eq.getState() == self.s.indi.IPS_ALERT else "ok"
        ra_deg, dec_deg = eq[0].getValue() * 15.0, eq[1].getValue()
        props: dict[str, Any] = {
            "ra_deg": ra_deg,
            "dec_deg": dec_deg,
            "parked": self._parked(),
            "of_date": True,
        }
        site = self.s.optional_numbers(self.dev, "GEOGRAPHIC_COORD")
        if "LAT" in site and "LONG" in site:  # the mount's own idea of where it stands
            jd = float(julian_date(datetime.now(timezone.utc)))
            alt, _ = altaz_of_date_deg(
                np.radians(ra_deg), np.radians(dec_deg), site["LAT"], site["LONG"], jd
            )
            props["altitude_deg"] = round(float(alt), 3)
        return DeviceStatus("mount", state, properties=props)

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
        # The switch reads PARK as soon as it is sent; the mount is parked when the driver
        # says the property is no longer busy (a roof must not close on a moving mount).
        prop = self.s.set_switch(self.dev, "TELESCOPE_PARK", "PARK")
        _wait(lambda: prop.getState() != self.s.indi.IPS_BUSY, "park")
        if prop.getState() == self.s.indi.IPS_ALERT or not self._parked():
            raise DeviceError("the mount did not park")

    def unpark(self) -> None:
        if self._parked():
            prop = self.s.set_switch(self.dev, "TELESCOPE_PARK", "UNPARK")
            _wait(lambda: prop.getState() != self.s.indi.IPS_BUSY, "unpark", 60)
            if self._parked():
                raise DeviceError("the mount did not unpark")


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
        state: State = "error" if exposure.getState() == self.s.indi.IPS_ALERT else "ok"
        temperature = self.s.optional_numbers(self.dev, "CCD_TEMPERATURE")
        return DeviceStatus(
            "camera", state, properties={"temperature_c": temperature.get("CCD_TEMPERATURE_VALUE")}
        )

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
        # The agent's names and units first (what the heartbeat's weather summary reads), then
        # the station's own INDI parameters as they are.
        r = self.read()
        ours = {"wind_ms": r.wind_ms, "humidity_pct": r.humidity_pct, "cloud_pct": r.cloud_pct}
        known = {k: v for k, v in ours.items() if v is not None}
        return DeviceStatus("weather", properties={**known, **self._values()})

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


class IndiFocuser:
    def __init__(self, session: IndiSession) -> None:
        self.s = session
        self.dev = session.device(session.indi.BaseDevice.FOCUSER_INTERFACE, "focuser")

    def status(self) -> DeviceStatus:
        prop = self.s.number(self.dev, "ABS_FOCUS_POSITION")
        element = prop[0]
        alert = prop.getState() == self.s.indi.IPS_ALERT
        return DeviceStatus(
            "focuser",
            "error" if alert else "ok",
            "the focuser reports an alert (its last move failed)" if alert else None,
            {
                "position": int(element.getValue()),
                "min_position": int(element.getMin()),
                "max_position": int(element.getMax()),
                "moving": prop.getState() == self.s.indi.IPS_BUSY,
                "temperature_c": self.s.optional_numbers(self.dev, "FOCUS_TEMPERATURE").get(
                    "TEMPERATURE"
                ),
            },
        )

    def move_to(self, position: int) -> None:
        prop = self.s.number(self.dev, "ABS_FOCUS_POSITION")
        low, high = int(prop[0].getMin()), int(prop[0].getMax())
        if not low <= position <= high:
            raise DeviceError(f"focuser position {position} is outside {low}..{high}")
        prop[0].setValue(float(position))
        prop.setState(self.s.indi.IPS_BUSY)
        self.s.client.sendNewProperty(prop)
        _wait(lambda: prop.getState() != self.s.indi.IPS_BUSY, "focuser move", 300)
        if prop.getState() == self.s.indi.IPS_ALERT:
            raise DeviceError(f"the focuser refused to move to {position}")


class IndiDome:
    def __init__(self, session: IndiSession) -> None:
        self.s = session
        self.dev = session.device(session.indi.BaseDevice.DOME_INTERFACE, "dome")

    def _shutter(self) -> Shutter:
        prop = self.s.switch(self.dev, "DOME_SHUTTER")
        if prop.getState() == self.s.indi.IPS_ALERT:
            return "error"
        on = {e.getName() for e in prop if e.getState() == self.s.indi.ISS_ON}
        busy = prop.getState() == self.s.indi.IPS_BUSY
        if "SHUTTER_OPEN" in on:
            return "opening" if busy else "open"
        if "SHUTTER_CLOSE" in on:
            return "closing" if busy else "closed"
        return "unknown"

    def status(self) -> DeviceStatus:
        shutter = self._shutter()
        azimuth = self.s.optional_numbers(self.dev, "ABS_DOME_POSITION")
        return DeviceStatus(
            "dome",
            "error" if shutter == "error" else "ok",
            "the shutter reports an alert" if shutter == "error" else None,
            {"shutter": shutter, "azimuth_deg": azimuth.get("DOME_ABSOLUTE_POSITION")},
        )

    def open(self) -> None:
        self._move("open", "SHUTTER_OPEN")

    def close(self) -> None:
        self._move("closed", "SHUTTER_CLOSE")

    def _move(self, to: Shutter, element: str) -> None:
        if self._shutter() == to:
            return
        prop = self.s.set_switch(self.dev, "DOME_SHUTTER", element)
        _wait(lambda: prop.getState() != self.s.indi.IPS_BUSY, f"shutter {to}")
        if self._shutter() != to:
            raise DeviceError(f"the shutter is {self._shutter()}, not {to}")


def indi_devices(url: str, focuser: bool = False, dome: bool = False) -> Devices:
    """The first device of each interface; focuser and dome only if the site has them."""
    if not url.startswith("indi://"):
        raise DeviceError(f"{url!r} is not an indi:// address, e.g. indi://127.0.0.1:7624")
    host, _, port = url.removeprefix("indi://").rstrip("/").partition(":")
    session = IndiSession(host or "127.0.0.1", int(port or 7624))
    return Devices(
        mount=IndiMount(session),
        camera=IndiCamera(session),
        wheel=IndiWheel(session),
        weather=IndiWeather(session),
        focuser=IndiFocuser(session) if focuser else None,
        dome=IndiDome(session) if dome else None,
    )
