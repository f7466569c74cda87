"""Julian dates and sidereal time (UT1 taken as UTC: < 1 s, i.e. < 15 arcsec in hour angle)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

JD_UNIX_EPOCH = 2440587.5
JD_J2000 = 2451545.0


def julian_date(when: datetime | ArrayLike) -> NDArray[np.float64]:
    """JD for a timezone-aware datetime, or for an array of Unix seconds."""
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("datetime must be timezone-aware (UTC)")
        seconds = np.asarray(when.timestamp(), dtype=float)
    else:
        seconds = np.asarray(when, dtype=float)
    return seconds / 86400.0 + JD_UNIX_EPOCH


def gmst_rad(jd: ArrayLike) -> NDArray[np.float64]:
    """Greenwich mean sidereal time (IAU 2006, from the Earth rotation angle)."""
    d = np.asarray(jd, dtype=float) - JD_J2000
    t = d / 36525.0
    era = 2.0 * np.pi * ((0.7790572732640 + 0.00273781191135448 * d + d) % 1.0)
    poly_arcsec = 0.014506 + 4612.156534 * t + 1.3915817 * t**2 - 0.00000044 * t**3
    return (era + np.radians(poly_arcsec / 3600.0)) % (2.0 * np.pi)


def local_sidereal_time_deg(jd: ArrayLike, longitude_deg: ArrayLike) -> NDArray[np.float64]:
    """LST in degrees; broadcasts jd against longitudes (east positive)."""
    return (np.degrees(gmst_rad(jd)) + np.asarray(longitude_deg, dtype=float)) % 360.0
