"""Precession of J2000 mean coordinates to the mean equator of date (IAU 1976, Lieske 1977).

Nutation (< 20 arcsec) and aberration (< 21 arcsec) are left out: well inside the 0.05 degree
budget of scheduling geometry.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from datas_core.sky.time import JD_J2000


def precession_matrix(jd: float) -> NDArray[np.float64]:
    t = (jd - JD_J2000) / 36525.0
    arcsec = np.pi / (180.0 * 3600.0)
    zeta = (2306.2181 * t + 0.30188 * t**2 + 0.017998 * t**3) * arcsec
    z = (2306.2181 * t + 1.09468 * t**2 + 0.018203 * t**3) * arcsec
    theta = (2004.3109 * t - 0.42665 * t**2 - 0.041833 * t**3) * arcsec
    cz, sz = np.cos(zeta), np.sin(zeta)
    cZ, sZ = np.cos(z), np.sin(z)
    ct, st = np.cos(theta), np.sin(theta)
    return np.array(
        [
            [cz * ct * cZ - sz * sZ, -sz * ct * cZ - cz * sZ, -st * cZ],
            [cz * ct * sZ + sz * cZ, -sz * ct * sZ + cz * cZ, -st * sZ],
            [cz * st, -sz * st, ct],
        ]
    )


def precess_unit_vectors(xyz: ArrayLike, jd: float) -> NDArray[np.float64]:
    """Rotate (..., 3) J2000 unit vectors to the mean equator and equinox of date."""
    return np.asarray(xyz, dtype=float) @ precession_matrix(jd).T
