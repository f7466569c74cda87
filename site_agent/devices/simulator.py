"""Simulated mount, camera, filter wheel, weather, focuser and dome: the whole chain testable
without hardware, with faults to drill (a hung camera, a dome that will not close).

The camera renders a real-looking frame: stars from a synthetic catalog that is the same every
time the same patch of sky is pointed at (seeded per 0.25 deg cell), a Gaussian PSF, sky
background, Poisson and read noise, saturation, and FITS headers with the right TAN WCS.
`time_factor` scales slews and exposures (0.01: a 60 s exposure takes 0.6 s).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from datas_core.sky.altaz import altaz_deg
from site_agent.devices.base import (
    DeviceError,
    Devices,
    DeviceStatus,
    Frame,
    Shutter,
    State,
    WeatherReading,
)

CELL_DEG = 0.25
STARS_PER_SQ_DEG = 1500.0  # to magnitude 17, a mid-latitude field
BRIGHT_MAG, FAINT_MAG = 8.0, 17.0


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
        self._lock = threading.Lock()

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
        start = datetime.now(timezone.utc)
        _sleep(seconds, self.options)
        data = render_frame(
            self.options, self.mount.ra_deg, self.mount.dec_deg, seconds, light, seed=count
        )
        header = wcs_header(self.options, self.mount.ra_deg, self.mount.dec_deg)
        header.update(
            {
                "DATE-OBS": start.isoformat(timespec="milliseconds").replace("+00:00", ""),
                "EXPTIME": float(seconds),
                "FILTER": filter_name,
                "IMAGETYP": "Light Frame" if light else "Dark Frame",
                "GAIN": self.options.gain,
                "RDNOISE": self.options.read_noise_e,
                "SATURATE": 65535,
                "INSTRUME": "DATAS simulator",
            }
        )
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
    return Devices(
        mount=mount,
        camera=SimCamera(options, mount, wheel),
        wheel=wheel,
        weather=SimWeather(options),
        focuser=SimFocuser(options) if focuser else None,
        dome=SimDome(options) if dome else None,
    )


def _separation_deg(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    r1, d1, r2, d2 = map(math.radians, (ra1, dec1, ra2, dec2))
    c = math.sin(d1) * math.sin(d2) + math.cos(d1) * math.cos(d2) * math.cos(r1 - r2)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def wcs_header(options: SimOptions, ra_deg: float, dec_deg: float) -> dict[str, object]:
    scale = options.pixel_scale_arcsec / 3600.0
    return {
        "CTYPE1": "RA---TAN",
        "CTYPE2": "DEC--TAN",
        "CRVAL1": ra_deg,
        "CRVAL2": dec_deg,
        "CRPIX1": (options.width + 1) / 2.0,
        "CRPIX2": (options.height + 1) / 2.0,
        "CD1_1": -scale,
        "CD1_2": 0.0,
        "CD2_1": 0.0,
        "CD2_2": scale,
        "RADESYS": "ICRS",
        "EQUINOX": 2000.0,
    }


def catalog_near(ra_deg: float, dec_deg: float, radius_deg: float) -> np.ndarray:
    """Synthetic stars (ra, dec, mag) within radius: the same stars for the same sky cells."""
    rows = []
    dec_lo = max(-90.0, dec_deg - radius_deg)
    dec_hi = min(90.0, dec_deg + radius_deg)
    last = round(90.0 / CELL_DEG) - 1  # the cell that touches the north pole
    for j in range(math.floor(dec_lo / CELL_DEG), min(math.floor(dec_hi / CELL_DEG), last) + 1):
        d0 = j * CELL_DEG
        width = CELL_DEG / max(math.cos(math.radians(d0 + CELL_DEG / 2)), 0.01)
        n_ra = max(1, round(360.0 / width))
        ra_span = radius_deg / max(math.cos(math.radians(dec_deg)), 0.01) + 360.0 / n_ra
        for i in range(n_ra):
            ra_mid = (i + 0.5) * 360.0 / n_ra
            if abs((ra_mid - ra_deg + 180) % 360 - 180) > ra_span and radius_deg < 80:
                continue
            rng = np.random.default_rng([j + 10_000, i])
            area = (360.0 / n_ra) * CELL_DEG * math.cos(math.radians(d0 + CELL_DEG / 2))
            n = rng.poisson(STARS_PER_SQ_DEG * area)
            ra = (i + rng.random(n)) * 360.0 / n_ra
            dec = d0 + rng.random(n) * CELL_DEG
            # N(<m) ~ 10^(0.35 m): inverse transform between the bright and faint limits.
            u = rng.random(n)
            lo, hi = 10 ** (0.35 * BRIGHT_MAG), 10 ** (0.35 * FAINT_MAG)
            mag = np.log10(lo + u * (hi - lo)) / 0.35
            rows.append(np.column_stack([ra, dec, mag]))
    if not rows:
        return np.zeros((0, 3))
    stars = np.vstack(rows)
    keep = [
        _separation_deg(ra_deg, dec_deg, float(r), float(d)) <= radius_deg for r, d in stars[:, :2]
    ]
    return stars[np.asarray(keep, dtype=bool)]


def render_frame(
    options: SimOptions, ra_deg: float, dec_deg: float, seconds: float, light: bool, seed: int
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = options.height, options.width
    electrons = np.full((h, w), options.sky_e_per_s * seconds if light else 0.0)
    if light:
        transmission = 1.0 - 0.9 * options.cloud_pct / 100.0
        radius = math.hypot(w, h) * options.pixel_scale_arcsec / 3600.0 / 2 + 0.01
        stars = catalog_near(ra_deg, dec_deg, radius)
        if len(stars):
            x, y = _project(options, ra_deg, dec_deg, stars[:, 0], stars[:, 1])
            flux = seconds * transmission * 10 ** (-0.4 * (stars[:, 2] - options.zero_point))
            _add_stars(electrons, x, y, flux, options.fwhm_px)
    noisy = rng.poisson(np.clip(electrons, 0, None)).astype(float)
    noisy += rng.normal(0.0, options.read_noise_e, (h, w))
    adu = options.bias_adu + noisy / options.gain
    return np.clip(np.round(adu), 0, 65535).astype(np.uint16)


def _project(
    options: SimOptions, ra0: float, dec0: float, ra: np.ndarray, dec: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gnomonic (TAN) projection to 0-based pixel coordinates, x along -RA as in the header."""
    a0, d0 = math.radians(ra0), math.radians(dec0)
    a, d = np.radians(ra), np.radians(dec)
    cos_c = math.sin(d0) * np.sin(d) + math.cos(d0) * np.cos(d) * np.cos(a - a0)
    xi = np.cos(d) * np.sin(a - a0) / cos_c
    eta = (math.cos(d0) * np.sin(d) - math.sin(d0) * np.cos(d) * np.cos(a - a0)) / cos_c
    scale = math.radians(options.pixel_scale_arcsec / 3600.0)
    x = (options.width - 1) / 2.0 - xi / scale
    y = (options.height - 1) / 2.0 + eta / scale
    return np.where(cos_c > 0, x, -1e9), np.where(cos_c > 0, y, -1e9)


def _add_stars(
    image: np.ndarray, x: np.ndarray, y: np.ndarray, flux: np.ndarray, fwhm: float
) -> None:
    sigma = fwhm / 2.3548
    half = math.ceil(4 * sigma)
    h, w = image.shape
    for xc, yc, f in zip(x, y, flux, strict=True):
        if not (-half <= xc < w + half and -half <= yc < h + half):
            continue
        x0, y0 = int(np.rint(xc)), int(np.rint(yc))
        ys = np.arange(max(0, y0 - half), min(h, y0 + half + 1))
        xs = np.arange(max(0, x0 - half), min(w, x0 + half + 1))
        if not len(xs) or not len(ys):
            continue
        gy = np.exp(-0.5 * ((ys - yc) / sigma) ** 2)
        gx = np.exp(-0.5 * ((xs - xc) / sigma) ** 2)
        image[np.ix_(ys, xs)] += f * np.outer(gy, gx) / (2 * math.pi * sigma**2)
