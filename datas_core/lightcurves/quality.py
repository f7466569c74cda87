"""Data quality per site and night: zero-point scatter and the share of flagged observations.

A night is named by the local date of its evening: the UTC time shifted by the site's longitude
(mean solar time) minus 12 h, so one night never straddles two names. The zero-point scatter is
robust (1.4826 x median absolute deviation) and per filter, since zero points differ by band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

MAD_TO_SIGMA = 1.4826
MIN_ZERO_POINTS = 3  # fewer cannot say anything about scatter


def night_names(unix_seconds: ArrayLike, longitude_deg: ArrayLike) -> NDArray[np.str_]:
    """ISO date of the evening each instant's night began, at each site's longitude."""
    local = np.asarray(unix_seconds, dtype=float) + np.asarray(longitude_deg, dtype=float) * 240.0
    days = np.floor((local - 43200.0) / 86400.0).astype("int64")
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D")


def robust_std(values: ArrayLike) -> float:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan")
    return float(MAD_TO_SIGMA * np.median(np.abs(v - np.median(v))))


@dataclass(frozen=True)
class ZeroPointNight:
    site_id: str
    night: str
    filter: str
    n: int
    median: float
    robust_std: float
    exceeds: bool


@dataclass(frozen=True)
class FlaggedNight:
    site_id: str
    night: str
    n: int
    flagged: int
    share: float
    exceeds: bool


def zero_point_scatter(
    site_ids: ArrayLike,
    nights: ArrayLike,
    filters: ArrayLike,
    zero_points: ArrayLike,
    max_scatter_mag: float,
) -> list[ZeroPointNight]:
    """One entry per (site, night, filter) with at least MIN_ZERO_POINTS finite zero points."""
    zp = np.asarray(zero_points, dtype=float)
    keep = np.isfinite(zp)
    keys = np.stack(
        [np.asarray(a, dtype=str)[keep] for a in (site_ids, nights, filters)], axis=1
    ).reshape(-1, 3)
    zp = zp[keep]
    out = []
    groups, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    for g, (site, night, band) in enumerate(groups):
        values = zp[inverse == g]
        if values.size < MIN_ZERO_POINTS:
            continue
        scatter = robust_std(values)
        out.append(
            ZeroPointNight(
                site_id=str(site),
                night=str(night),
                filter=str(band),
                n=int(values.size),
                median=float(np.median(values)),
                robust_std=scatter,
                exceeds=scatter > max_scatter_mag,
            )
        )
    return out


def flagged_share(
    site_ids: ArrayLike, nights: ArrayLike, flagged: ArrayLike, max_share: float
) -> list[FlaggedNight]:
    """One entry per (site, night): how many observations carry quality flags."""
    is_flagged = np.asarray(flagged, dtype=bool)
    keys = np.stack([np.asarray(a, dtype=str) for a in (site_ids, nights)], axis=1).reshape(-1, 2)
    out = []
    groups, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    counts = np.bincount(inverse, minlength=len(groups))
    hits = np.bincount(inverse, weights=is_flagged.astype(float), minlength=len(groups))
    for g, (site, night) in enumerate(groups):
        share = float(hits[g] / counts[g])
        out.append(
            FlaggedNight(
                site_id=str(site),
                night=str(night),
                n=int(counts[g]),
                flagged=int(hits[g]),
                share=share,
                exceeds=share > max_share,
            )
        )
    return out
