"""What the scheduler reads: targets, sites and the network's state, as arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

REDUNDANCY_CODES = {"diverse": 0, "simultaneous": 1, "any": 2}


@dataclass(frozen=True)
class SchedulerConfig:
    lookahead_minutes: float = 120.0  # the ranking looks this far ahead
    step_minutes: float = 30.0  # sampling of the look-ahead (altitude, Sun)
    sun_limit_deg: float = -12.0  # nautical twilight: a site observes below this Sun altitude
    keep_per_site: int = 50  # entries stored per site
    explain_per_site: int = 20  # best excluded targets stored per site, with their reasons
    head_per_site: int = 3  # the slot: what a site observes before the next ranking
    default_min_moon_deg: float = 10.0
    min_depth_mag: float = 0.5  # a target must be this much brighter than the site's limit
    recent_hours: float = 1.0  # same-site repeat penalty window
    recent_factor: float = 0.3
    last_chance_boost: float = 1.25  # the target sets (while dark) within the look-ahead
    diverse_factor: float = 0.5  # a diverse target already in another site's slot
    simultaneous_sites: int = 3
    max_cadence_factor: float = 3.0
    never_observed_factor: float = 2.0
    chunk_sites: int = 16
    threads: int = 2
    validity_minutes: float = 10.0


@dataclass
class FilterVocabulary:
    """Filter names to bits (at most 63 distinct names per network)."""

    bits: dict[str, int] = field(default_factory=dict)

    def mask(self, names: list[str] | None) -> int:
        value = 0
        for name in names or []:
            key = name.strip()
            if key not in self.bits:
                if len(self.bits) >= 63:
                    continue  # beyond 63 names a filter is simply not matched
                self.bits[key] = len(self.bits)
            value |= 1 << self.bits[key]
        return value


@dataclass
class TargetArrays:
    target_id: NDArray[np.int64]
    name: list[str]
    ra_deg: NDArray[np.float64]
    dec_deg: NDArray[np.float64]
    magnitude: NDArray[np.float64]  # NaN: unknown
    priority: NDArray[np.float64]
    cadence_hours: NDArray[np.float64]  # NaN: no cadence
    last_observed_jd: NDArray[np.float64]  # NaN: never (network-wide, successful only)
    observations_done: NDArray[np.float64]
    total_needed: NDArray[np.float64]  # NaN: open-ended
    max_airmass: NDArray[np.float64]  # NaN: none
    min_moon_distance_deg: NDArray[np.float64]  # NaN: the default
    max_moon_phase: NDArray[np.float64]  # NaN: any
    tc_start_jd: NDArray[np.float64]
    tc_end_jd: NDArray[np.float64]
    tc_boost: NDArray[np.float64]
    expires_jd: NDArray[np.float64]  # NaN: never
    filter_mask: NDArray[np.uint64]  # 0: any filter will do
    filters: list[list[str]]
    campaign_boost: NDArray[np.float64]
    redundancy: NDArray[np.uint8]
    min_fov_arcmin: NDArray[np.float64]
    updated_jd: NDArray[np.float64]
    exposure_hints: list[dict[str, Any] | None]

    def __len__(self) -> int:
        return len(self.target_id)


@dataclass
class SiteArrays:
    site_id: list[str]
    latitude: NDArray[np.float64]
    longitude: NDArray[np.float64]
    altitude_limit_deg: NDArray[np.float64]
    horizon: list[list[list[float]] | None]
    ha_east_h: NDArray[np.float64]  # 12: no limit
    ha_west_h: NDArray[np.float64]
    filter_mask: NDArray[np.uint64]
    filters: list[list[str]]
    aperture_mm: NDArray[np.float64]
    fov_arcmin: NDArray[np.float64]
    limiting_mag: NDArray[np.float64]  # NaN: unknown (assumed deep enough)
    weather_factor: NDArray[np.float64]  # 0 when not schedulable
    weather_reason: list[str | None]  # why weather makes the site unschedulable
    reliability: NDArray[np.float64]  # 0..1

    def __len__(self) -> int:
        return len(self.site_id)


@dataclass
class RecentObservations:
    """(site index, target index) pairs observed from that site within the repeat window."""

    site_index: NDArray[np.intp]
    target_index: NDArray[np.intp]


def empty_recent() -> RecentObservations:
    return RecentObservations(np.zeros(0, np.intp), np.zeros(0, np.intp))


def _col(values: Any, n: int, default: float, dtype: Any = np.float64) -> NDArray[Any]:
    if values is None:
        return np.full(n, default, dtype=dtype)
    arr = np.array([default if v is None else v for v in values], dtype=dtype)
    if arr.shape != (n,):
        raise ValueError(f"column of length {arr.shape} given for {n} rows")
    return arr


def build_targets(
    target_id: Any,
    ra_deg: Any,
    dec_deg: Any,
    vocabulary: FilterVocabulary,
    **columns: Any,
) -> TargetArrays:
    """TargetArrays from columns (lists or arrays, None meaning unset); unnamed ones default."""
    ids = np.asarray(target_id, dtype=np.int64)
    n = len(ids)
    filters = columns.get("filters") or [[] for _ in range(n)]
    nan = np.nan
    return TargetArrays(
        target_id=ids,
        name=list(columns.get("name") or [str(i) for i in ids.tolist()]),
        ra_deg=np.asarray(ra_deg, dtype=float),
        dec_deg=np.asarray(dec_deg, dtype=float),
        magnitude=_col(columns.get("magnitude"), n, nan),
        priority=_col(columns.get("priority"), n, 5.0),
        cadence_hours=_col(columns.get("cadence_hours"), n, nan),
        last_observed_jd=_col(columns.get("last_observed_jd"), n, nan),
        observations_done=_col(columns.get("observations_done"), n, 0.0),
        total_needed=_col(columns.get("total_needed"), n, nan),
        max_airmass=_col(columns.get("max_airmass"), n, nan),
        min_moon_distance_deg=_col(columns.get("min_moon_distance_deg"), n, nan),
        max_moon_phase=_col(columns.get("max_moon_phase"), n, nan),
        tc_start_jd=_col(columns.get("tc_start_jd"), n, nan),
        tc_end_jd=_col(columns.get("tc_end_jd"), n, nan),
        tc_boost=_col(columns.get("tc_boost"), n, nan),
        expires_jd=_col(columns.get("expires_jd"), n, nan),
        filter_mask=np.array([vocabulary.mask(f) for f in filters], dtype=np.uint64),
        filters=[list(f or []) for f in filters],
        campaign_boost=_col(columns.get("campaign_boost"), n, 1.0),
        redundancy=_col(columns.get("redundancy"), n, 0, np.uint8),
        min_fov_arcmin=_col(columns.get("min_fov_arcmin"), n, nan),
        updated_jd=_col(columns.get("updated_jd"), n, 0.0),
        exposure_hints=list(columns.get("exposure_hints") or [None] * n),
    )


def build_sites(
    site_id: list[str],
    latitude: Any,
    longitude: Any,
    vocabulary: FilterVocabulary,
    **columns: Any,
) -> SiteArrays:
    m = len(site_id)
    filters = columns.get("filters") or [[] for _ in range(m)]
    nan = np.nan
    return SiteArrays(
        site_id=list(site_id),
        latitude=np.asarray(latitude, dtype=float),
        longitude=np.asarray(longitude, dtype=float),
        altitude_limit_deg=_col(columns.get("altitude_limit_deg"), m, 20.0),
        horizon=list(columns.get("horizon") or [None] * m),
        ha_east_h=_col(columns.get("ha_east_h"), m, 12.0),
        ha_west_h=_col(columns.get("ha_west_h"), m, 12.0),
        filter_mask=np.array([vocabulary.mask(f) for f in filters], dtype=np.uint64),
        filters=[list(f or []) for f in filters],
        aperture_mm=_col(columns.get("aperture_mm"), m, nan),
        fov_arcmin=_col(columns.get("fov_arcmin"), m, nan),
        limiting_mag=_col(columns.get("limiting_mag"), m, nan),
        weather_factor=_col(columns.get("weather_factor"), m, 1.0),
        weather_reason=list(columns.get("weather_reason") or [None] * m),
        reliability=_col(columns.get("reliability"), m, 1.0),
    )
