"""The suggested exposure plan of a (target, site) pair: filter, exposure time and count."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

REFERENCE_MAG = 12.0  # a 12th-magnitude star ...
REFERENCE_EXPOSURE_S = 30.0  # ... reaches a useful SNR in 30 s ...
REFERENCE_APERTURE_MM = 200.0  # ... with a 20 cm telescope
MIN_EXPOSURE_S, MAX_EXPOSURE_S = 2.0, 300.0
DEFAULT_COUNT = 3
OVERHEAD_S = 10.0  # readout and filter change per frame
SLEW_S = 60.0  # slew and settle per target


def exposure_seconds(magnitude: ArrayLike, aperture_mm: ArrayLike) -> NDArray[np.float64]:
    """Equal signal scaling: flux ~ 10^(-0.4 m) * D^2, clipped to what a small telescope does."""
    mag = np.nan_to_num(np.asarray(magnitude, dtype=float), nan=REFERENCE_MAG)
    ap = np.nan_to_num(np.asarray(aperture_mm, dtype=float), nan=REFERENCE_APERTURE_MM)
    ap = np.maximum(ap, 10.0)
    t = (
        REFERENCE_EXPOSURE_S
        * 10.0 ** (0.4 * (mag - REFERENCE_MAG))
        * (REFERENCE_APERTURE_MM / ap) ** 2
    )
    return np.clip(t, MIN_EXPOSURE_S, MAX_EXPOSURE_S)


def plan_minutes(magnitude: ArrayLike, aperture_mm: ArrayLike) -> NDArray[np.float64]:
    """How long the default plan occupies the telescope (for the fits-before-it-sets check)."""
    per_frame = exposure_seconds(magnitude, aperture_mm) + OVERHEAD_S
    return (DEFAULT_COUNT * per_frame + SLEW_S) / 60.0


def choose_filter(target_filters: list[str], site_filters: list[str]) -> str:
    for name in target_filters:
        if name in site_filters:
            return name
    for preferred in ("V", "R", "G", "r", "g", "CV", "L", "Clear", "CLEAR"):
        if preferred in site_filters:
            return preferred
    return site_filters[0] if site_filters else "CLEAR"


def exposure_plan(
    magnitude: float | None,
    aperture_mm: float | None,
    target_filters: list[str],
    site_filters: list[str],
    hints: dict[str, Any] | None,
) -> dict[str, Any]:
    """Per-target hints (`filter`, `exposure_sec`, `count`) win over the scaling rule."""
    hints = hints or {}
    filt = hints.get("filter")
    if not isinstance(filt, str) or (site_filters and filt not in site_filters):
        filt = choose_filter(target_filters, site_filters)
    exposure = hints.get("exposure_sec", hints.get(filt))  # general, else this filter's seconds
    if not isinstance(exposure, (int, float)) or exposure <= 0:
        exposure = float(
            exposure_seconds(
                np.nan if magnitude is None else magnitude,
                np.nan if aperture_mm is None else aperture_mm,
            )
        )
    count = hints.get("count")
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if not isinstance(count, int) or count <= 0:
        count = DEFAULT_COUNT
    return {"filter": filt, "exposure_sec": round(float(exposure), 1), "count": count}
