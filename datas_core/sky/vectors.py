"""Unit vectors and angular distances on the sphere."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def radec_to_unit(ra_deg: ArrayLike, dec_deg: ArrayLike) -> NDArray[np.float64]:
    """(..., 3) unit vectors for RA/Dec in degrees."""
    ra = np.radians(np.asarray(ra_deg, dtype=float))
    dec = np.radians(np.asarray(dec_deg, dtype=float))
    cos_dec = np.cos(dec)
    return np.stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), np.sin(dec)], axis=-1)


def unit_to_radec(xyz: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    v = np.asarray(xyz, dtype=float)
    ra = np.degrees(np.arctan2(v[..., 1], v[..., 0])) % 360.0
    dec = np.degrees(np.arcsin(np.clip(v[..., 2] / np.linalg.norm(v, axis=-1), -1.0, 1.0)))
    return ra, dec


def angular_separation_deg(
    ra1: ArrayLike, dec1: ArrayLike, ra2: ArrayLike, dec2: ArrayLike
) -> NDArray[np.float64]:
    """Great-circle distance (Vincenty form: accurate at all separations)."""
    ra1r, dec1r = np.radians(ra1), np.radians(dec1)
    ra2r, dec2r = np.radians(ra2), np.radians(dec2)
    dra = ra2r - ra1r
    num = np.hypot(
        np.cos(dec2r) * np.sin(dra),
        np.cos(dec1r) * np.sin(dec2r) - np.sin(dec1r) * np.cos(dec2r) * np.cos(dra),
    )
    den = np.sin(dec1r) * np.sin(dec2r) + np.cos(dec1r) * np.cos(dec2r) * np.cos(dra)
    return np.degrees(np.arctan2(num, den))
