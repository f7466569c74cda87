"""Background, source extraction and aperture photometry (sep), with CCD-equation errors.

Flux errors per aperture: source shot noise from the gain, sky and read noise from the measured
background rms per pixel, plus the error of the background estimate itself (the n_pix^2/n_B term
of the CCD equation). An optional scintillation floor (Young 1967, x1.5 after Osborn et al. 2015)
is added in magnitudes when the aperture of the telescope is known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sep
from numpy.typing import NDArray

sep.set_extract_pixstack(5_000_000)
sep.set_sub_object_limit(4096)

BACKGROUND_MESH = 64
MAG_PER_SNR = 2.5 / math.log(10)  # 1.0857


@dataclass
class Background:
    level: NDArray[np.float32]  # background per pixel, ADU
    rms: NDArray[np.float32]  # noise per pixel, ADU
    global_level: float
    global_rms: float
    pixels_per_mesh: int


@dataclass
class Sources:
    """Detected sources, 0-based pixel coordinates, fluxes in ADU within the aperture."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    flux: NDArray[np.float64]
    flux_err: NDArray[np.float64]
    peak: NDArray[np.float64]  # highest raw pixel (background included), for saturation
    a: NDArray[np.float64]
    b: NDArray[np.float64]
    fwhm: NDArray[np.float64]
    flags: NDArray[np.int64]  # sep object and aperture flags
    aperture_radius: float

    def __len__(self) -> int:
        return len(self.x)

    @property
    def snr(self) -> NDArray[np.float64]:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.flux_err > 0, self.flux / self.flux_err, 0.0)

    @property
    def elongation(self) -> NDArray[np.float64]:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.b > 0, self.a / self.b, np.inf)


def measure_background(data: NDArray[np.float32], mask: NDArray[np.bool_] | None) -> Background:
    bkg = sep.Background(data, mask=mask, bw=BACKGROUND_MESH, bh=BACKGROUND_MESH, fw=3, fh=3)
    return Background(
        level=bkg.back(),
        rms=bkg.rms(),
        global_level=float(bkg.globalback),
        global_rms=float(bkg.globalrms),
        pixels_per_mesh=BACKGROUND_MESH * BACKGROUND_MESH,
    )


def extract_sources(
    data: NDArray[np.float32],
    background: Background,
    *,
    gain: float,
    mask: NDArray[np.bool_] | None = None,
    threshold_sigma: float = 5.0,
    min_area: int = 5,
    aperture_radius: float | None = None,
) -> Sources:
    """Sources above threshold, measured in one circular aperture (default 1.5 x the FWHM)."""
    subtracted = data - background.level
    objects = sep.extract(
        subtracted,
        threshold_sigma,
        err=background.rms,
        mask=mask,
        minarea=min_area,
        deblend_cont=0.005,
        clean=True,
    )
    x = objects["x"].astype(float)
    y = objects["y"].astype(float)
    a, b = objects["a"].astype(float), objects["b"].astype(float)
    fwhm = np.full(len(x), np.nan)
    if len(x):
        radius_max = np.clip(6.0 * a, 3.0, 50.0)
        half_light, _ = sep.flux_radius(
            subtracted, x, y, radius_max, 0.5, normflux=objects["flux"], subpix=5
        )
        fwhm = 2.0 * half_light  # exact for a Gaussian profile
    radius = aperture_radius or default_aperture_radius(fwhm, objects["flag"], a, b)
    flux, flux_err, aperture_flags = measure_apertures(
        subtracted, background, x, y, radius, gain=gain, mask=mask
    )
    peak = objects["peak"].astype(float) + _sample(background.level, x, y)
    return Sources(
        x=x,
        y=y,
        flux=flux,
        flux_err=flux_err,
        peak=peak,
        a=a,
        b=b,
        fwhm=fwhm,
        flags=objects["flag"].astype(np.int64) | aperture_flags,
        aperture_radius=radius,
    )


def default_aperture_radius(
    fwhm: NDArray[np.float64],
    flags: NDArray[np.int64],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
) -> float:
    clean = (flags == 0) & np.isfinite(fwhm) & (fwhm > 0.5) & (b > 0)
    typical = float(np.median(fwhm[clean])) if clean.sum() >= 3 else 3.0
    return max(2.5, 1.5 * typical)


def measure_apertures(
    subtracted: NDArray[np.float32],
    background: Background,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    radius: float,
    *,
    gain: float,
    mask: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Aperture sums with CCD-equation errors; also used for forced photometry at a position."""
    if not len(x):
        empty = np.zeros(0)
        return empty, empty, np.zeros(0, dtype=np.int64)
    flux, err, flags = sep.sum_circle(
        subtracted, x, y, radius, err=background.rms, gain=gain, mask=mask, subpix=5
    )
    n_pix = math.pi * radius**2
    rms_here = _sample(background.rms, x, y)
    background_error_sq = n_pix**2 * rms_here**2 / background.pixels_per_mesh
    return (
        flux.astype(float),
        np.sqrt(err.astype(float) ** 2 + background_error_sq),
        flags.astype(np.int64),
    )


def scintillation_mag(
    aperture_mm: float, airmass: float, exposure_s: float, altitude_m: float = 0.0
) -> float:
    """Young's scintillation noise in magnitudes, scaled by 1.5 as measured by Osborn et al."""
    d_cm = aperture_mm / 10.0
    relative = (
        0.09
        * d_cm ** (-2.0 / 3.0)
        * airmass**1.75
        * math.exp(-altitude_m / 8000.0)
        / math.sqrt(2.0 * exposure_s)
    )
    return 1.5 * MAG_PER_SNR * relative


def _sample(
    image: NDArray[np.float32], x: NDArray[np.float64], y: NDArray[np.float64]
) -> NDArray[np.float64]:
    h, w = image.shape
    xi = np.clip(np.rint(x).astype(int), 0, w - 1)
    yi = np.clip(np.rint(y).astype(int), 0, h - 1)
    return image[yi, xi].astype(float)
