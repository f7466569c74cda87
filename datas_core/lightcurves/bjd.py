"""Barycentric Julian Date in TDB, vectorized over all observations of a target.

BJD_TDB = JD_TDB + (r_obs . n) / c: the time the light would have reached the solar system
barycentre (Roemer delay, plane wave), for the observatory position r_obs (barycentric) and the
target's unit vector n. The Earth's barycentric position comes from ERFA's epv00 series (the one
astropy's "builtin" ephemeris uses, ~km), evaluated once per whole TT day spanned by the data and
Hermite-interpolated with its velocity in between (sub-km); the observatory's geocentric vector
is rotated by the mean sidereal time (precession and polar motion ignored: < 1 ms). UTC -> TT
uses ERFA's leap-second table, refreshed from astropy's bundled copy; TT -> TDB the geocentric
series. No IERS tables and no network: agreement with astropy is at the 0.1 ms level.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import erfa
import numpy as np
from numpy.typing import ArrayLike, NDArray

from datas_core.sky.time import JD_UNIX_EPOCH, gmst_rad

SECONDS_PER_DAY = 86400.0
C_M_PER_S = erfa.CMPS
AU_M = erfa.DAU


@lru_cache(maxsize=1)
def _current_leap_seconds() -> None:
    """Give ERFA astropy's bundled leap-second table (offline); ERFA's own is older."""
    try:
        from astropy.time import update_leap_seconds

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            update_leap_seconds()
    except Exception:
        pass  # ERFA's compiled-in table is still right: no leap second since 2016-12-31


def unix_to_jd(unix_seconds: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two-part UTC Julian date (day number at 0h UTC, fraction) from Unix seconds."""
    seconds = np.asarray(unix_seconds, dtype=float)
    days = np.floor(seconds / SECONDS_PER_DAY)
    return days + JD_UNIX_EPOCH, (seconds - days * SECONDS_PER_DAY) / SECONDS_PER_DAY


def utc_to_tt(
    jd1: NDArray[np.float64], jd2: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    _current_leap_seconds()
    with warnings.catch_warnings():
        # "dubious year": a date past the leap-second table keeps the last known offset.
        warnings.simplefilter("ignore", erfa.ErfaWarning)
        tai1, tai2 = erfa.utctai(jd1, jd2)
    tt1, tt2 = erfa.taitt(tai1, tai2)
    return np.asarray(tt1), np.asarray(tt2)


def earth_barycentric_m(tt_jd: ArrayLike) -> NDArray[np.float64]:
    """Earth's barycentric position (BCRS, metres), shape (n, 3), for TT Julian dates."""
    tt = np.atleast_1d(np.asarray(tt_jd, dtype=float))
    day = np.floor(tt)
    nodes = np.unique(np.concatenate([day, day + 1.0]))
    _, pvb = erfa.epv00(nodes, np.zeros_like(nodes))
    pos, vel = pvb["p"], pvb["v"]  # au, au/day
    i = np.searchsorted(nodes, day)
    s = (tt - day)[:, None]
    h00 = 2 * s**3 - 3 * s**2 + 1
    h10 = s**3 - 2 * s**2 + s
    h01 = -2 * s**3 + 3 * s**2
    h11 = s**3 - s**2
    p = h00 * pos[i] + h10 * vel[i] + h01 * pos[i + 1] + h11 * vel[i + 1]
    return np.asarray(p * AU_M)


def observatory_geocentric_m(
    jd_utc: ArrayLike, latitude_deg: ArrayLike, longitude_deg: ArrayLike, height_m: ArrayLike
) -> NDArray[np.float64]:
    """The site's geocentric position in a celestial (mean-of-date) frame, metres, (n, 3)."""
    jd, lat, lon, height = np.broadcast_arrays(
        *(
            np.atleast_1d(np.asarray(a, dtype=float))
            for a in (jd_utc, latitude_deg, longitude_deg, height_m)
        )
    )
    xyz = np.asarray(erfa.gd2gc(1, np.radians(lon), np.radians(lat), height))  # WGS84
    angle = gmst_rad(jd)
    c, s = np.cos(angle), np.sin(angle)
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    return np.stack([c * x - s * y, s * x + c * y, z], axis=-1)


def unit_vector(ra_deg: float, dec_deg: float) -> NDArray[np.float64]:
    ra, dec = np.radians(ra_deg), np.radians(dec_deg)
    return np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])


def bjd_tdb(
    unix_seconds: ArrayLike,
    ra_deg: float,
    dec_deg: float,
    latitude_deg: ArrayLike = 0.0,
    longitude_deg: ArrayLike = 0.0,
    height_m: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """BJD_TDB (days) for UTC instants given as Unix seconds; site arrays broadcast per row.

    Pass mid-exposure times. Float64 JDs resolve ~40 microseconds.
    """
    jd1, jd2 = unix_to_jd(np.atleast_1d(np.asarray(unix_seconds, dtype=float)))
    tt1, tt2 = utc_to_tt(jd1, jd2)
    tt = tt1 + tt2
    earth = earth_barycentric_m(tt)
    site = observatory_geocentric_m(jd1 + jd2, latitude_deg, longitude_deg, height_m)
    delay_s = (earth + site) @ unit_vector(ra_deg, dec_deg) / C_M_PER_S
    tdb_minus_tt_s = np.interp(tt, *_tdb_minus_tt_nodes(tt))
    return np.asarray(tt1 + (tt2 + (tdb_minus_tt_s + delay_s) / SECONDS_PER_DAY))


def _tdb_minus_tt_nodes(tt: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """TDB - TT (s, geocentric) on whole TT days around the data: linear in between (< 1 us)."""
    day = np.floor(tt)
    nodes = np.unique(np.concatenate([day, day + 1.0]))
    zero = np.zeros_like(nodes)
    return nodes, np.asarray(erfa.dtdb(nodes, zero, zero, zero, zero, zero))
