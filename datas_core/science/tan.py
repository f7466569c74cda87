"""The gnomonic (TAN) projection with a CD matrix, both ways, vectorized; FITS 1-based CRPIX,
0-based pixel coordinates in and out."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def cd_matrix(wcs: dict[str, Any]) -> Array:
    return np.array([[wcs["CD1_1"], wcs["CD1_2"]], [wcs["CD2_1"], wcs["CD2_2"]]], dtype=float)


def sky_to_standard(ra0: float, dec0: float, ra: Array, dec: Array) -> tuple[Array, Array, Array]:
    """Standard coordinates (xi, eta) in degrees about (ra0, dec0), and cos of the distance."""
    a0, d0 = math.radians(ra0), math.radians(dec0)
    a, d = np.radians(ra), np.radians(dec)
    cos_c = math.sin(d0) * np.sin(d) + math.cos(d0) * np.cos(d) * np.cos(a - a0)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = np.degrees(np.cos(d) * np.sin(a - a0) / cos_c)
        eta = np.degrees(
            (math.cos(d0) * np.sin(d) - math.sin(d0) * np.cos(d) * np.cos(a - a0)) / cos_c
        )
    return xi, eta, cos_c


def standard_to_sky(ra0: float, dec0: float, xi: Array, eta: Array) -> tuple[Array, Array]:
    a0, d0 = math.radians(ra0), math.radians(dec0)
    x, y = np.radians(xi), np.radians(eta)
    denom = math.cos(d0) - y * math.sin(d0)
    ra = a0 + np.arctan2(x, denom)
    dec = np.arctan2(math.sin(d0) + y * math.cos(d0), np.hypot(x, denom))
    return np.degrees(ra) % 360.0, np.degrees(dec)


def sky_to_pixel(wcs: dict[str, Any], ra: Array, dec: Array) -> tuple[Array, Array]:
    """0-based pixel coordinates; NaN for points on the far side of the sky."""
    xi, eta, cos_c = sky_to_standard(float(wcs["CRVAL1"]), float(wcs["CRVAL2"]), ra, dec)
    dx, dy = np.linalg.solve(cd_matrix(wcs), np.vstack([np.atleast_1d(xi), np.atleast_1d(eta)]))
    x = dx + float(wcs["CRPIX1"]) - 1.0
    y = dy + float(wcs["CRPIX2"]) - 1.0
    behind = np.atleast_1d(cos_c) <= 0
    return np.where(behind, np.nan, x), np.where(behind, np.nan, y)


def pixel_to_sky(wcs: dict[str, Any], x: Array, y: Array) -> tuple[Array, Array]:
    d = np.vstack(
        [
            np.atleast_1d(x) + 1.0 - float(wcs["CRPIX1"]),
            np.atleast_1d(y) + 1.0 - float(wcs["CRPIX2"]),
        ]
    )
    xi, eta = cd_matrix(wcs) @ d
    return standard_to_sky(float(wcs["CRVAL1"]), float(wcs["CRVAL2"]), xi, eta)


def pixel_scale_arcsec(wcs: dict[str, Any]) -> float:
    return math.sqrt(abs(np.linalg.det(cd_matrix(wcs)))) * 3600.0


def tan_header(crval: tuple[float, float], crpix: tuple[float, float], cd: Array) -> dict[str, Any]:
    return {
        "CTYPE1": "RA---TAN",
        "CTYPE2": "DEC--TAN",
        "CUNIT1": "deg",
        "CUNIT2": "deg",
        "CRVAL1": float(crval[0]),
        "CRVAL2": float(crval[1]),
        "CRPIX1": float(crpix[0]),
        "CRPIX2": float(crpix[1]),
        "CD1_1": float(cd[0, 0]),
        "CD1_2": float(cd[0, 1]),
        "CD2_1": float(cd[1, 0]),
        "CD2_2": float(cd[1, 1]),
        "RADESYS": "ICRS",
        "EQUINOX": 2000.0,
    }
