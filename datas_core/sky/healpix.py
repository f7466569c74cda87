"""Nested HEALPix indices and cone-search pixel ranges: the same SQL on SQLite and PostgreSQL.

A cone query becomes: healpix in a few integer ranges (index-friendly) AND an exact dot-product
test on the stored unit vector. Correct across RA 0/360 and at the poles because neither step
uses RA/Dec boxes.
"""

from __future__ import annotations

import math

import numpy as np
from astropy import units as u
from astropy.coordinates import Latitude, Longitude
from astropy_healpix import HEALPix
from numpy.typing import ArrayLike, NDArray

# Order 20: nside 2^20, pixels ~0.2 arcsec across; indices fit comfortably in BIGINT.
FINE_ORDER = 20
MAX_RANGES = 64


def healpix_index(ra_deg: ArrayLike, dec_deg: ArrayLike) -> NDArray[np.int64]:
    hp = HEALPix(nside=2**FINE_ORDER, order="nested")
    ra = np.atleast_1d(np.asarray(ra_deg, dtype=float))
    dec = np.atleast_1d(np.asarray(dec_deg, dtype=float))
    return np.asarray(hp.lonlat_to_healpix(ra * u.deg, dec * u.deg), dtype=np.int64)


def _coarse_order(radius_deg: float) -> int:
    # Pixel size at order k is ~ sqrt(pi/3) / 2^k rad; pick pixels about as large as the cone.
    radius_rad = max(math.radians(radius_deg), 1e-12)
    k = math.floor(math.log2(math.sqrt(math.pi / 3.0) / radius_rad))
    return max(0, min(FINE_ORDER, k))


def cone_ranges(ra_deg: float, dec_deg: float, radius_deg: float) -> list[tuple[int, int]]:
    """Inclusive [lo, hi] ranges of fine-order nested indices covering the cone."""
    order = _coarse_order(radius_deg)
    while True:
        hp = HEALPix(nside=2**order, order="nested")
        pixels = np.sort(
            hp.cone_search_lonlat(
                Longitude(ra_deg * u.deg), Latitude(dec_deg * u.deg), radius_deg * u.deg
            )
        )
        ranges = _merge(pixels, 2 * (FINE_ORDER - order))
        if len(ranges) <= MAX_RANGES or order == 0:
            return ranges
        order -= 1  # too many disjoint pieces: coarser pixels, fewer (wider) ranges


def _merge(pixels: NDArray[np.int64], shift: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for p in pixels.tolist():
        lo, hi = p << shift, ((p + 1) << shift) - 1
        if ranges and ranges[-1][1] + 1 == lo:
            ranges[-1] = (ranges[-1][0], hi)
        else:
            ranges.append((lo, hi))
    return ranges
