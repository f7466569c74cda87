"""Altitude, azimuth and airmass, vectorized over targets x sites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from datas_core.sky.precession import precess_unit_vectors
from datas_core.sky.time import julian_date, local_sidereal_time_deg
from datas_core.sky.vectors import radec_to_unit


@dataclass(frozen=True)
class ApparentPlaces:
    """Mean positions of date for a fixed set of targets: the per-target work, done once.

    Precession moves positions by ~0.14 arcsec a day, so one set serves a whole night.
    """

    jd: float
    ra_rad: NDArray[np.float64]
    sin_dec: NDArray[np.float64]
    cos_dec: NDArray[np.float64]

    @classmethod
    def of(cls, ra_deg: ArrayLike, dec_deg: ArrayLike, when: datetime) -> ApparentPlaces:
        jd = float(julian_date(when))
        xyz = precess_unit_vectors(radec_to_unit(ra_deg, dec_deg), jd)
        sin_dec = np.clip(xyz[..., 2], -1.0, 1.0)
        return cls(
            jd=jd,
            ra_rad=np.arctan2(xyz[..., 1], xyz[..., 0]),
            sin_dec=sin_dec,
            cos_dec=np.sqrt(1.0 - sin_dec**2),
        )

    def hour_angle_rad(self, longitude_deg: ArrayLike, when: datetime) -> NDArray[np.float64]:
        lst = np.radians(local_sidereal_time_deg(julian_date(when), longitude_deg))
        return lst - self.ra_rad

    def altitude_deg(
        self, latitude_deg: ArrayLike, longitude_deg: ArrayLike, when: datetime
    ) -> NDArray[np.float64]:
        lat = np.radians(np.asarray(latitude_deg, dtype=float))
        cos_ha = np.cos(self.hour_angle_rad(longitude_deg, when))
        sin_alt = np.sin(lat) * self.sin_dec + np.cos(lat) * self.cos_dec * cos_ha
        return np.degrees(np.arcsin(np.clip(sin_alt, -1.0, 1.0)))

    def azimuth_deg(
        self, latitude_deg: ArrayLike, longitude_deg: ArrayLike, when: datetime
    ) -> NDArray[np.float64]:
        lat = np.radians(np.asarray(latitude_deg, dtype=float))
        ha = self.hour_angle_rad(longitude_deg, when)
        az = np.arctan2(
            -self.cos_dec * np.sin(ha),
            self.sin_dec * np.cos(lat) - self.cos_dec * np.sin(lat) * np.cos(ha),
        )
        return np.degrees(az) % 360.0

    def altaz_deg(
        self, latitude_deg: ArrayLike, longitude_deg: ArrayLike, when: datetime
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return (
            self.altitude_deg(latitude_deg, longitude_deg, when),
            self.azimuth_deg(latitude_deg, longitude_deg, when),
        )

    def subset(self, index: NDArray[np.intp]) -> ApparentPlaces:
        return ApparentPlaces(self.jd, self.ra_rad[index], self.sin_dec[index], self.cos_dec[index])


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
    return ApparentPlaces.of(ra_deg, dec_deg, when).altaz_deg(latitude_deg, longitude_deg, when)


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


def altaz_of_date_deg(
    ra_rad: ArrayLike,
    dec_rad: ArrayLike,
    latitude_deg: ArrayLike,
    longitude_deg: ArrayLike,
    jd: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Altitude and azimuth of positions already of date (Sun, Moon); all arguments broadcast."""
    lat = np.radians(np.asarray(latitude_deg, dtype=float))
    dec = np.asarray(dec_rad, dtype=float)
    ha = np.radians(local_sidereal_time_deg(jd, longitude_deg)) - np.asarray(ra_rad, dtype=float)
    sin_alt = np.sin(lat) * np.sin(dec) + np.cos(lat) * np.cos(dec) * np.cos(ha)
    az = np.arctan2(
        -np.cos(dec) * np.sin(ha),
        np.sin(dec) * np.cos(lat) - np.cos(dec) * np.sin(lat) * np.cos(ha),
    )
    return np.degrees(np.arcsin(np.clip(sin_alt, -1.0, 1.0))), np.degrees(az) % 360.0
