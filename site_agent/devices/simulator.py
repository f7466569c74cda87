"""Simulated mount, camera, filter wheel, weather, focuser and dome: the whole chain testable
without hardware, with faults to drill (a hung camera, a dome that will not close).

The camera renders a real-looking frame: stars from a synthetic catalog that is the same every
time the same patch of sky is pointed at (seeded per 0.25 deg cell), the target the agent was
asked to observe at its magnitude (varying with its type and period, see
datas_core.science.variability; evaluated at mid-exposure), a Gaussian PSF, sky background,
Poisson and read noise, and FITS headers with the right TAN WCS. Pixels are 32-bit integers by
default: the network's targets reach magnitude 2, which any 16-bit camera saturates (a site
would stop down or defocus; `adc_bits: 16` keeps that realism). `time_factor` scales slews and
exposures (0.01: a 60 s exposure takes 0.6 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

import numpy as np

from datas_core.science import synthetic, variability
from datas_core.sky.altaz import altaz_deg
from datas_core.sky.time import JD_UNIX_EPOCH
from datas_core.sky.vectors import angular_separation_deg
from site_agent.devices.base import (
    DeviceError,
    Devices,
    DeviceStatus,
    Frame,
    Shutter,
    State,
    TargetHint,
    WeatherReading,
)


@dataclass
class SimOptions:
    time_factor: float = 1.0
    slew_deg_per_s: float = 3.0
    width: int = 512
    height: int = 512
    pixel_scale_arcsec: float = 1.5
    fwhm_px: float = 2.5
    zero_point: float = 22.0  # magnitude giving 1 e-/s
    gain: float = 1.5  # e-/ADU
    read_noise_e: float = 8.0
    sky_e_per_s: float = 30.0
    bias_adu: float = 500.0
    adc_bits: int = 32  # 16: a real camera's range (bright targets saturate)
    filters: list[str] = field(default_factory=lambda: ["B", "V", "R", "I", "L"])
    cloud_pct: float = 10.0
    wind_ms: float = 3.0
    fail_after_exposures: int | None = None
    latitude: float | None = None  # where the mount stands: it then reports its altitude
    longitude: float | None = None
    ccd_temp_c: float = -10.0
    focuser_position: int = 50_000
    focuser_max: int = 100_000
    shutter_seconds: float = 20.0
    dome_fails_to_open: bool = False
    dome_fails_to_close: bool = False
    clock: Callable[[], float] = time.time  # when exposures start (tests set the time)


def _sleep(seconds: float, options: SimOptions) -> None:
    time.sleep(max(0.0, seconds * options.time_factor))


class SimMount:
    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.ra_deg, self.dec_deg = 0.0, 90.0
        self.parked = True

    def status(self) -> DeviceStatus:
        props: dict[str, object] = {
            "ra_deg": self.ra_deg,
            "dec_deg": self.dec_deg,
            "parked": self.parked,
        }
        o = self.options
        if o.latitude is not None and o.longitude is not None:
            alt, _ = altaz_deg(
                self.ra_deg, self.dec_deg, o.latitude, o.longitude, datetime.now(timezone.utc)
            )
            props["altitude_deg"] = round(float(alt), 3)
        return DeviceStatus("mount", "ok", properties=props)

    def slew(self, ra_deg: float, dec_deg: float) -> None:
        if not (0 <= ra_deg < 360 and -90 <= dec_deg <= 90):
            raise DeviceError(f"slew target ra={ra_deg} dec={dec_deg} is out of range")
        if self.parked:
            raise DeviceError("the mount is parked; unpark first")
        d = _separation_deg(self.ra_deg, self.dec_deg, ra_deg, dec_deg)
        _sleep(d / self.options.slew_deg_per_s + 2.0, self.options)
        self.ra_deg, self.dec_deg = ra_deg, dec_deg

    def park(self) -> None:
        _sleep(5.0, self.options)
        self.parked = True

    def unpark(self) -> None:
        self.parked = False


class SimWheel:
    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.current = options.filters[0]

    def status(self) -> DeviceStatus:
        return DeviceStatus(
            "wheel", properties={"filter": self.current, "filters": self.options.filters}
        )

    def select(self, name: str) -> None:
        if name not in self.options.filters:
            raise DeviceError(
                f"filter {name!r} is not in the wheel ({', '.join(self.options.filters)})"
            )
        if name != self.current:
            _sleep(2.0, self.options)
            self.current = name


class SimWeather:
    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.frozen_at: float | None = None  # fault: the station stops updating

    def status(self) -> DeviceStatus:
        return DeviceStatus(
            "weather",
            properties={"cloud_pct": self.options.cloud_pct, "wind_ms": self.options.wind_ms},
        )

    def read(self) -> WeatherReading:
        stamp = self.frozen_at if self.frozen_at is not None else time.time()
        return WeatherReading(
            timestamp=stamp,
            wind_ms=self.options.wind_ms,
            humidity_pct=50.0,
            cloud_pct=self.options.cloud_pct,
            rain=False,
        )


class SimCamera:
    def __init__(self, options: SimOptions, mount: SimMount, wheel: SimWheel) -> None:
        self.options = options
        self.mount = mount
        self.wheel = wheel
        self.exposures = 0
        self.target: TargetHint | None = None  # what the agent said it is observing
        self._lock = threading.Lock()

    def observe_target(self, hint: TargetHint | None) -> None:
        self.target = hint

    def status(self) -> DeviceStatus:
        return DeviceStatus(
            "camera",
            properties={"exposures": self.exposures, "temperature_c": self.options.ccd_temp_c},
        )

    def expose(self, seconds: float, light: bool, filter_name: str) -> Frame:
        with self._lock:
            self.exposures += 1
            count = self.exposures
        limit = self.options.fail_after_exposures
        if limit is not None and count > limit:
            time.sleep(3600)  # a hung camera: the caller's deadline turns this into an error
        start = datetime.fromtimestamp(self.options.clock(), tz=timezone.utc)
        _sleep(seconds, self.options)
        ra, dec, target = self.mount.ra_deg, self.mount.dec_deg, self.target
        mid = start.timestamp() + seconds / 2.0
        data = render_frame(self.options, ra, dec, seconds, light, count, target, mid)
        header = synthetic.wcs_header(camera_of(self.options), ra, dec)
        header.update(
            {
                "DATE-OBS": start.isoformat(timespec="milliseconds").replace("+00:00", ""),
                "EXPTIME": float(seconds),
                "FILTER": filter_name,
                "IMAGETYP": "Light Frame" if light else "Dark Frame",
                "GAIN": self.options.gain,
                "RDNOISE": self.options.read_noise_e,
                "SATURATE": synthetic.ADC_MAX[self.options.adc_bits],
                "INSTRUME": "DATAS simulator",
            }
        )
        if target is not None:
            header["OBJECT"] = target.name[:68]
        return Frame(data=data, header=header)


class SimFocuser:
    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.position = options.focuser_position

    def status(self) -> DeviceStatus:
        return DeviceStatus(
            "focuser",
            properties={
                "position": self.position,
                "min_position": 0,
                "max_position": self.options.focuser_max,
                "moving": False,
            },
        )

    def move_to(self, position: int) -> None:
        if not 0 <= position <= self.options.focuser_max:
            raise DeviceError(
                f"focuser position {position} is outside 0..{self.options.focuser_max}"
            )
        _sleep(abs(position - self.position) / 5000.0, self.options)
        self.position = position


class SimDome:
    """A dome (or roll-off roof) that starts closed; it can be told to fail to open or close."""

    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.shutter: Shutter = "closed"

    def status(self) -> DeviceStatus:
        state: State = "error" if self.shutter == "error" else "ok"
        message = "the shutter is stuck" if self.shutter == "error" else None
        return DeviceStatus("dome", state, message, {"shutter": self.shutter})

    def open(self) -> None:
        self._move("open", self.options.dome_fails_to_open)

    def close(self) -> None:
        self._move("closed", self.options.dome_fails_to_close)

    def _move(self, to: Shutter, fails: bool) -> None:
        if self.shutter == to:
            return
        self.shutter = "opening" if to == "open" else "closing"
        _sleep(self.options.shutter_seconds, self.options)
        if fails:
            self.shutter = "error"
            raise DeviceError(f"the shutter stopped before it was {to}")
        self.shutter = to


def simulator_devices(options: SimOptions, focuser: bool = False, dome: bool = False) -> Devices:
    mount = SimMount(options)
    wheel = SimWheel(options)
    camera = SimCamera(options, mount, wheel)
    return Devices(
        mount=mount,
        camera=camera,
        wheel=wheel,
        weather=SimWeather(options),
        focuser=SimFocuser(options) if focuser else None,
        dome=SimDome(options) if dome else None,
        on_target=camera.observe_target,
    )


def _separation_deg(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    return float(angular_separation_deg(ra1, dec1, ra2, dec2))


def camera_of(options: SimOptions) -> synthetic.Camera:
    return synthetic.Camera(
        width=options.width,
        height=options.height,
        pixel_scale_arcsec=options.pixel_scale_arcsec,
        fwhm_px=options.fwhm_px,
        zero_point=options.zero_point,
        gain=options.gain,
        read_noise_e=options.read_noise_e,
        sky_e_per_s=options.sky_e_per_s,
        bias_adu=options.bias_adu,
    )


def catalog_near(ra_deg: float, dec_deg: float, radius_deg: float) -> np.ndarray:
    """The simulated sky around a position as rows of (ra, dec, mag)."""
    stars = synthetic.sky_catalog(ra_deg, dec_deg, radius_deg)
    return np.column_stack([stars.ra_deg, stars.dec_deg, stars.mag])


def render_frame(
    options: SimOptions,
    ra_deg: float,
    dec_deg: float,
    seconds: float,
    light: bool,
    seed: int,
    target: TargetHint | None = None,
    mid_exposure: float | None = None,
) -> np.ndarray:
    """One raw frame pointed at (ra, dec), with the target at its magnitude at `mid_exposure`
    (unix seconds); clouds dim the stars (cloud_pct: 90% loss at 100)."""
    camera = camera_of(options)
    header = synthetic.wcs_header(camera, ra_deg, dec_deg)
    stars = synthetic.sky_catalog(ra_deg, dec_deg, synthetic.field_radius_deg(camera))
    if target is not None and target.magnitude is not None:
        jd = (time.time() if mid_exposure is None else mid_exposure) / 86400.0 + JD_UNIX_EPOCH
        mag = target_magnitude(target, jd)
        stars = synthetic.with_target(stars, target.ra_deg, target.dec_deg, mag)
    transmission = 1.0 - 0.9 * options.cloud_pct / 100.0
    return synthetic.render(
        camera,
        header,
        stars,
        seconds,
        light=light,
        transmission=transmission,
        seed=seed,
        bits=options.adc_bits,
    )


def target_magnitude(target: TargetHint, jd: float) -> float:
    """The target's magnitude at `jd` (UTC, no light-time correction: < 8.3 min)."""
    model = light_curve(
        target.name,
        target.target_type,
        target.classification,
        tuple(sorted(target.variability.items())),
    )
    return float(model.magnitude(float(target.magnitude or 0.0), jd))


@lru_cache(maxsize=1024)
def light_curve(
    name: str,
    target_type: str | None,
    classification: str | None,
    given: tuple[tuple[str, float], ...],
) -> variability.LightCurveModel:
    known = dict(given)
    return variability.model_for(
        name,
        target_type,
        classification,
        period_days=known.get("period_days"),
        amplitude_mag=known.get("amplitude_mag"),
        epoch_jd=known.get("epoch_jd"),
        duration_hours=known.get("duration_hours"),
    )
