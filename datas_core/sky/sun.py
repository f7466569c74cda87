"""The Sun's place (low-precision series, ~0.01 deg) and twilight, vectorized over times."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from datas_core.sky.time import JD_J2000

# Sun altitude (deg) below which each kind of night begins.
TWILIGHT_DEG = {"civil": -6.0, "nautical": -12.0, "astronomical": -18.0}


def obliquity_rad(jd: ArrayLike) -> NDArray[np.float64]:
    t = (np.asarray(jd, dtype=float) - JD_J2000) / 36525.0
    return np.radians(23.4392911 - 0.0130042 * t)


def sun_radec_rad(jd: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Right ascension and declination of date (Astronomical Almanac low-precision formulae)."""
    n = np.asarray(jd, dtype=float) - JD_J2000
    mean_lon = np.radians(280.460 + 0.9856474 * n)
    anomaly = np.radians(357.528 + 0.9856003 * n)
    lon = mean_lon + np.radians(1.915 * np.sin(anomaly) + 0.020 * np.sin(2.0 * anomaly))
    eps = obliquity_rad(jd)
    ra = np.arctan2(np.cos(eps) * np.sin(lon), np.cos(lon)) % (2.0 * np.pi)
    dec = np.arcsin(np.sin(eps) * np.sin(lon))
    return ra, dec


def sun_unit_vector(jd: ArrayLike) -> NDArray[np.float64]:
    ra, dec = sun_radec_rad(jd)
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)
