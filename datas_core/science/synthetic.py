"""Synthetic sky and camera: star fields with known truth, for the simulator, tests and benchmarks.

`sky_catalog` gives the same stars every time the same patch of sky is asked for (seeded per
0.25 deg cell, N(<m) ~ 10^(0.35 m)). `with_target` puts a network target into that sky at a given
magnitude. `render` turns stars of known magnitude into a raw frame: Gaussian PSF, sky, cloud
transmission, Poisson and read noise, bias, saturation at the ADC's range (16 or 32 bits).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from datas_core.science.tan import sky_to_pixel, tan_header
from datas_core.sky.vectors import angular_separation_deg

CELL_DEG = 0.25
STARS_PER_SQ_DEG = 1500.0  # to magnitude 17, a mid-latitude field
BRIGHT_MAG, FAINT_MAG = 8.0, 17.0
SATURATION_ADU = 65535
ADC_MAX = {16: SATURATION_ADU, 32: 2**31 - 1}  # 32 bits: signed FITS integers (BITPIX 32)
TARGET_ID = "TARGET"


@dataclass(frozen=True)
class Camera:
    """What the synthetic camera and telescope are: enough to render and to reduce a frame."""

    width: int = 512
    height: int = 512
    pixel_scale_arcsec: float = 1.5
    rotation_deg: float = 0.0  # position angle of +y from north, east of north
    fwhm_px: float = 2.5
    zero_point: float = 22.0  # magnitude giving 1 e-/s
    gain: float = 1.5  # e-/ADU
    read_noise_e: float = 8.0
    sky_e_per_s: float = 30.0
    bias_adu: float = 500.0


@dataclass
class Stars:
    ra_deg: NDArray[np.float64]
    dec_deg: NDArray[np.float64]
    mag: NDArray[np.float64]
    ids: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ra_deg)


def wcs_header(camera: Camera, ra_deg: float, dec_deg: float) -> dict[str, object]:
    """The TAN WCS of a frame centred on (ra, dec): x runs along -RA (east left) when unrotated."""
    scale = camera.pixel_scale_arcsec / 3600.0
    rot = math.radians(camera.rotation_deg)
    c, s = math.cos(rot), math.sin(rot)
    cd = np.array([[-scale * c, scale * s], [scale * s, scale * c]])
    crpix = ((camera.width + 1) / 2.0, (camera.height + 1) / 2.0)
    return tan_header((ra_deg, dec_deg), crpix, cd)


def sky_catalog(ra_deg: float, dec_deg: float, radius_deg: float) -> Stars:
    """Synthetic stars within radius: the same stars for the same sky cells, ids by cell."""
    ras: list[NDArray[np.float64]] = []
    decs: list[NDArray[np.float64]] = []
    mags: list[NDArray[np.float64]] = []
    ids: list[str] = []
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
            n = int(rng.poisson(STARS_PER_SQ_DEG * area))
            ras.append((i + rng.random(n)) * 360.0 / n_ra)
            decs.append(d0 + rng.random(n) * CELL_DEG)
            # N(<m) ~ 10^(0.35 m): inverse transform between the bright and faint limits.
            lo, hi = 10 ** (0.35 * BRIGHT_MAG), 10 ** (0.35 * FAINT_MAG)
            mags.append(np.log10(lo + rng.random(n) * (hi - lo)) / 0.35)
            ids.extend(f"SYN{j + 10_000}-{i}-{k}" for k in range(n))
    if not ras:
        return Stars(np.zeros(0), np.zeros(0), np.zeros(0), [])
    ra, dec, mag = np.concatenate(ras), np.concatenate(decs), np.concatenate(mags)
    keep = angular_separation_deg(ra_deg, dec_deg, ra, dec) <= radius_deg
    return Stars(ra[keep], dec[keep], mag[keep], [s for s, k in zip(ids, keep, strict=True) if k])


def with_target(
    stars: Stars, ra_deg: float, dec_deg: float, mag: float, clear_arcsec: float = 10.0
) -> Stars:
    """`stars` plus a target at (ra, dec), alone within `clear_arcsec`: the synthetic field is
    random, and a field star inside the target's aperture would bias every measurement of it."""
    keep = angular_separation_deg(ra_deg, dec_deg, stars.ra_deg, stars.dec_deg) * 3600 > (
        clear_arcsec
    )
    named = len(stars.ids) == len(stars)  # ids are optional; keep them aligned when given
    ids = [s for s, k in zip(stars.ids, keep, strict=True) if k] + [TARGET_ID] if named else []
    return Stars(
        np.append(stars.ra_deg[keep], ra_deg),
        np.append(stars.dec_deg[keep], dec_deg),
        np.append(stars.mag[keep], mag),
        ids,
    )


def field_radius_deg(camera: Camera) -> float:
    return math.hypot(camera.width, camera.height) * camera.pixel_scale_arcsec / 3600.0 / 2 + 0.01


def render(
    camera: Camera,
    header: dict[str, object],
    stars: Stars,
    seconds: float,
    *,
    light: bool = True,
    transmission: float = 1.0,
    seed: int = 0,
    bits: int = 16,
) -> NDArray[np.uint16] | NDArray[np.int32]:
    """A raw frame of `stars` seen through the WCS in `header`, digitized to `bits` (16, 32)."""
    rng = np.random.default_rng(seed)
    h, w = camera.height, camera.width
    electrons = np.full((h, w), camera.sky_e_per_s * seconds if light else 0.0)
    if light and len(stars):
        x, y = sky_to_pixel(header, stars.ra_deg, stars.dec_deg)
        flux = seconds * transmission * 10 ** (-0.4 * (stars.mag - camera.zero_point))
        _add_gaussian_stars(electrons, x, y, flux, camera.fwhm_px)
    noisy = rng.poisson(np.clip(electrons, 0, None)).astype(float)
    noisy += rng.normal(0.0, camera.read_noise_e, (h, w))
    adu = np.clip(np.round(camera.bias_adu + noisy / camera.gain), 0, ADC_MAX[bits])
    return adu.astype(np.int32) if bits == 32 else adu.astype(np.uint16)


def _add_gaussian_stars(
    image: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    flux: NDArray[np.float64],
    fwhm: float,
) -> None:
    """Pixel-integrated Gaussians (error functions), so total flux is exact even when sharp."""
    from math import erf, sqrt

    sigma = fwhm / 2.3548
    half = math.ceil(5 * sigma)
    h, w = image.shape
    norm = 1.0 / (sqrt(2.0) * sigma)
    verf = np.frompyfunc(erf, 1, 1)
    for xc, yc, f in zip(x, y, flux, strict=True):
        if not (np.isfinite(xc) and np.isfinite(yc)):
            continue
        if not (-half <= xc < w + half and -half <= yc < h + half):
            continue
        x0, y0 = int(np.rint(xc)), int(np.rint(yc))
        ys = np.arange(max(0, y0 - half), min(h, y0 + half + 1))
        xs = np.arange(max(0, x0 - half), min(w, x0 + half + 1))
        if not len(xs) or not len(ys):
            continue
        ex = np.asarray(verf((np.append(xs, xs[-1] + 1) - 0.5 - xc) * norm), dtype=float)
        ey = np.asarray(verf((np.append(ys, ys[-1] + 1) - 0.5 - yc) * norm), dtype=float)
        gx, gy = 0.5 * np.diff(ex), 0.5 * np.diff(ey)
        image[np.ix_(ys, xs)] += f * np.outer(gy, gx)
