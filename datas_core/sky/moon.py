"""The Moon's place (Meeus ch. 47, main terms: ~0.02 deg), phase and topocentric altitude."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from datas_core.sky.sun import obliquity_rad, sun_unit_vector
from datas_core.sky.time import JD_J2000

EARTH_RADIUS_KM = 6378.14

# Multiples of (D, M, M', F), longitude (1e-6 deg), distance (1e-3 km): Meeus table 47.A.
_LON_DIST = np.array(
    [
        (0, 0, 1, 0, 6288774, -20905355),
        (2, 0, -1, 0, 1274027, -3699111),
        (2, 0, 0, 0, 658314, -2955968),
        (0, 0, 2, 0, 213618, -569925),
        (0, 1, 0, 0, -185116, 48888),
        (0, 0, 0, 2, -114332, -3149),
        (2, 0, -2, 0, 58793, 246158),
        (2, -1, -1, 0, 57066, -152138),
        (2, 0, 1, 0, 53322, -170733),
        (2, -1, 0, 0, 45758, -204586),
        (0, 1, -1, 0, -40923, -129620),
        (1, 0, 0, 0, -34720, 108743),
        (0, 1, 1, 0, -30383, 104755),
        (2, 0, 0, -2, 15327, 10321),
        (0, 0, 1, 2, -12528, 0),
        (0, 0, 1, -2, 10980, 79661),
        (4, 0, -1, 0, 10675, -34782),
        (0, 0, 3, 0, 10034, -23210),
        (4, 0, -2, 0, 8548, -21636),
        (2, 1, -1, 0, -7888, 24208),
        (2, 1, 0, 0, -6766, 30824),
        (1, 0, -1, 0, -5163, -8379),
        (1, 1, 0, 0, 4987, -16675),
        (2, -1, 1, 0, 4036, -12831),
        (2, 0, 2, 0, 3994, -10445),
        (4, 0, 0, 0, 3861, -11650),
        (2, 0, -3, 0, 3665, 14403),
        (0, 1, -2, 0, -2689, -7003),
        (2, 0, -1, 2, -2602, 0),
        (2, -1, -2, 0, 2390, 10056),
        (1, 0, 1, 0, -2348, 6322),
        (2, -2, 0, 0, 2236, -9884),
    ],
    dtype=float,
)
# Multiples of (D, M, M', F), latitude (1e-6 deg): Meeus table 47.B.
_LAT = np.array(
    [
        (0, 0, 0, 1, 5128122),
        (0, 0, 1, 1, 280602),
        (0, 0, 1, -1, 277693),
        (2, 0, 0, -1, 173237),
        (2, 0, -1, 1, 55413),
        (2, 0, -1, -1, 46271),
        (2, 0, 0, 1, 32573),
        (0, 0, 2, 1, 17198),
        (2, 0, 1, -1, 9266),
        (0, 0, 2, -1, 8822),
        (2, -1, 0, -1, 8216),
        (2, 0, -2, -1, 4324),
        (2, 0, 1, 1, 4200),
        (2, 1, 0, -1, -3359),
        (2, -1, -1, 1, 2463),
        (2, -1, 0, 1, 2211),
        (2, -1, -1, -1, 2065),
        (0, 1, -1, -1, -1870),
        (4, 0, -1, -1, 1828),
        (0, 1, 0, 1, -1794),
    ],
    dtype=float,
)


def _poly(t: NDArray[np.float64], *c: float) -> NDArray[np.float64]:
    return np.radians(sum(ci * t**i for i, ci in enumerate(c)))


def moon_ecliptic(jd: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    """Geocentric ecliptic longitude, latitude (rad, of date) and distance (km)."""
    t = (np.asarray(jd, dtype=float) - JD_J2000) / 36525.0
    lp = _poly(t, 218.3164477, 481267.88123421, -0.0015786, 1 / 538841, -1 / 65194000)
    d = _poly(t, 297.8501921, 445267.1114034, -0.0018819, 1 / 545868, -1 / 113065000)
    m = _poly(t, 357.5291092, 35999.0502909, -0.0001536, 1 / 24490000)
    mp = _poly(t, 134.9633964, 477198.8675055, 0.0087414, 1 / 69699, -1 / 14712000)
    f = _poly(t, 93.2720950, 483202.0175233, -0.0036539, -1 / 3526000, 1 / 863310000)
    a1 = _poly(t, 119.75, 131.849)
    a2 = _poly(t, 53.09, 479264.290)
    a3 = _poly(t, 313.45, 481266.484)
    e = 1.0 - 0.002516 * t - 0.0000074 * t**2
    args = np.stack([d, m, mp, f], axis=-1)  # (..., 4)

    # Terms with the Sun's anomaly M shrink with the eccentricity of Earth's orbit (E^|M|).
    e_lon = e[..., None] ** np.abs(_LON_DIST[:, 1])
    arg_lon = args @ _LON_DIST[:, :4].T
    sum_l = (e_lon * _LON_DIST[:, 4] * np.sin(arg_lon)).sum(-1)
    sum_r = (e_lon * _LON_DIST[:, 5] * np.cos(arg_lon)).sum(-1)
    e_lat = e[..., None] ** np.abs(_LAT[:, 1])
    sum_b = (e_lat * _LAT[:, 4] * np.sin(args @ _LAT[:, :4].T)).sum(-1)
    sum_l = sum_l + 3958 * np.sin(a1) + 1962 * np.sin(lp - f) + 318 * np.sin(a2)
    sum_b = (
        sum_b
        - 2235 * np.sin(lp)
        + 382 * np.sin(a3)
        + 175 * np.sin(a1 - f)
        + 175 * np.sin(a1 + f)
        + 127 * np.sin(lp - mp)
        - 115 * np.sin(lp + mp)
    )
    lon = lp + np.radians(sum_l / 1e6)
    lat = np.radians(sum_b / 1e6)
    dist_km = 385000.56 + sum_r / 1000.0
    return lon, lat, dist_km


def moon_radec_rad(jd: ArrayLike) -> tuple[NDArray[np.float64], ...]:
    """Geocentric right ascension, declination (rad, equinox of date) and distance (km)."""
    lon, lat, dist = moon_ecliptic(jd)
    eps = obliquity_rad(jd)
    ra = np.arctan2(np.sin(lon) * np.cos(eps) - np.tan(lat) * np.sin(eps), np.cos(lon)) % (
        2.0 * np.pi
    )
    dec = np.arcsin(np.sin(lat) * np.cos(eps) + np.cos(lat) * np.sin(eps) * np.sin(lon))
    return ra, dec, dist


def moon_unit_vector(jd: ArrayLike) -> NDArray[np.float64]:
    ra, dec, _ = moon_radec_rad(jd)
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


def moon_illumination(jd: ArrayLike) -> NDArray[np.float64]:
    """Illuminated fraction 0 (new) .. 1 (full), from the Sun-Moon elongation."""
    cos_elong = np.clip((moon_unit_vector(jd) * sun_unit_vector(jd)).sum(-1), -1.0, 1.0)
    # Phase angle ~ 180 deg - elongation (the Sun's distance >> the Moon's: error < 0.2 deg).
    return (1.0 - cos_elong) / 2.0


def topocentric_altitude_deg(
    geocentric_alt_deg: ArrayLike, distance_km: ArrayLike
) -> NDArray[np.float64]:
    """Lower a geocentric altitude by the horizontal parallax (up to ~1 deg for the Moon)."""
    alt = np.radians(np.asarray(geocentric_alt_deg, dtype=float))
    parallax = np.arcsin(EARTH_RADIUS_KM / np.asarray(distance_km, dtype=float) * np.cos(alt))
    return np.degrees(alt - parallax)
