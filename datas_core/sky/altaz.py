"""Altitude, azimuth and airmass, vectorized over targets x sites."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from datas_core.sky.precession import precess_unit_vectors
from datas_core.sky.time import julian_date, local_sidereal_time_deg
from datas_core.sky.vectors import radec_to_unit


def altaz_deg(
    ra_deg: ArrayLike,
    dec_deg: ArrayLike,
    latitude_deg: ArrayLike,
    longitude_deg: ArrayLike,
    when: datetime,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Geometric (unrefracted) altitude and azimuth (north=0, east=90) of J2000 positions.

    Targets broadcast along the last axis, sites along the first: ra/dec of shape (n,) and
    latitude/longitude of shape (m, 1) give (m, n) arrays.
    """
    jd = float(julian_date(when))
    xyz = precess_unit_vectors(radec_to_unit(ra_deg, dec_deg), jd)
    ra_date = np.arctan2(xyz[..., 1], xyz[..., 0])
    dec_date = np.arcsin(np.clip(xyz[..., 2], -1.0, 1.0))
    lst = np.radians(local_sidereal_time_deg(jd, longitude_deg))
    lat = np.radians(np.asarray(latitude_deg, dtype=float))
    ha = lst - ra_date
    sin_alt = np.sin(lat) * np.sin(dec_date) + np.cos(lat) * np.cos(dec_date) * np.cos(ha)
    alt = np.arcsin(np.clip(sin_alt, -1.0, 1.0))
    az = np.arctan2(
        -np.cos(dec_date) * np.sin(ha),
        np.sin(dec_date) * np.cos(lat) - np.cos(dec_date) * np.sin(lat) * np.cos(ha),
    )
    return np.degrees(alt), np.degrees(az) % 360.0


def airmass(altitude_deg: ArrayLike) -> NDArray[np.float64]:
    """Pickering (2002) airmass; infinite at or below the horizon."""
    alt = np.asarray(altitude_deg, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = 1.0 / np.sin(np.radians(alt + 244.0 / (165.0 + 47.0 * np.abs(alt) ** 1.1)))
    return np.where(alt > 0.0, x, np.inf)


def horizon_limit_deg(
    azimuth_deg: ArrayLike, altitude_limit_deg: float, horizon: list[list[float]] | None
) -> NDArray[np.float64]:
    """Altitude limit per azimuth: the site's flat limit, raised by its local horizon profile."""
    az = np.asarray(azimuth_deg, dtype=float)
    limit = np.full_like(az, altitude_limit_deg)
    if horizon:
        points = np.asarray(sorted(horizon), dtype=float)
        profile = np.interp(az, points[:, 0], points[:, 1], period=360.0)
        limit = np.maximum(limit, profile)
    return limit
