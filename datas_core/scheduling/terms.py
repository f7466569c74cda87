"""The rules of scoring: named multiplicative terms and exclusion reasons.

One implementation serves both the dense pass over every (site, target) pair of a chunk and the
re-evaluation of a few chosen pairs (served entries, explained exclusions): callers pass index
arrays that broadcast, `(m, 1)` x `(1, n)` or `(k,)` x `(k,)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from datas_core.scheduling.inputs import (
    REDUNDANCY_CODES,
    SchedulerConfig,
    SiteArrays,
    TargetArrays,
)
from datas_core.scheduling.plan import plan_minutes

# Exclusion reasons, in the order they are checked (the first that applies is reported).
REASONS = (
    "",
    "daylight",
    "weather",
    "expired",
    "complete",
    "cadence_not_due",
    "below_altitude_limit",
    "outside_hour_angle_limits",
    "airmass_above_max",
    "moon_constraint",
    "missing_filter",
    "too_faint",
    "fov_too_small",
    "sets_before_plan_completes",
)
REASON_CODE = {name: code for code, name in enumerate(REASONS)}
TERM_NAMES = (
    "priority",
    "campaign",
    "time_critical",
    "cadence",
    "coverage",
    "weather",
    "reliability",
    "airmass",
    "moon",
    "capability",
    "last_chance",
    "recent",
)


@dataclass(frozen=True)
class TargetTerms:
    """Per-target factors and exclusions at the ranking time (shape (n,))."""

    priority: NDArray[np.float64]
    campaign: NDArray[np.float64]
    time_critical: NDArray[np.float64]
    cadence: NDArray[np.float64]
    coverage: NDArray[np.float64]
    reason: NDArray[np.uint8]
    moon_separation_deg: NDArray[np.float64]
    moon_bad: NDArray[np.bool_]  # violates its Moon constraint whenever the Moon is up
    urgent: NDArray[np.bool_]

    @cached_property
    def potential(self) -> NDArray[np.float64]:
        """The target's own score factors, whether or not it is schedulable."""
        return self.priority * self.campaign * self.time_critical * self.cadence * self.coverage

    @cached_property
    def base(self) -> NDArray[np.float64]:
        return np.where(self.reason == 0, self.potential, 0.0)


@dataclass(frozen=True)
class ObservationTerms:
    """The factors and exclusions a target's observing history decides (shape (n,))."""

    cadence: NDArray[np.float64]
    coverage: NDArray[np.float64]
    reason: NDArray[np.uint8]  # 0, cadence_not_due or complete


def observation_terms(
    cadence_hours: NDArray[np.float64],
    last_observed_jd: NDArray[np.float64],
    observations_done: NDArray[np.float64],
    total_needed: NDArray[np.float64],
    redundancy: NDArray[np.uint8],
    jd: float,
    cfg: SchedulerConfig,
) -> ObservationTerms:
    """Cadence and coverage deficits and the exclusions they imply: all that an observation
    changes about a target (the served lists re-apply just this when one arrives)."""
    # Cadence deficit, anchored to the last successful observation (not to a window start).
    since_h = (jd - last_observed_jd) * 24.0
    with np.errstate(invalid="ignore", divide="ignore"):
        deficit = since_h / cadence_hours
    cadence = np.where(
        np.isnan(cadence_hours),
        1.0,
        np.where(
            np.isnan(last_observed_jd),
            cfg.never_observed_factor,
            np.clip(np.nan_to_num(deficit, nan=1.0), 0.05, cfg.max_cadence_factor),
        ),
    )
    remaining = total_needed - observations_done
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = np.where(
            np.isnan(total_needed), 1.0, 1.0 + np.clip(remaining / total_needed, 0.0, 1.0)
        )
    reason = np.zeros(len(cadence_hours), dtype=np.uint8)
    # Not again before its cadence has passed (network-wide); a `simultaneous` target is exempt:
    # several sites observe it at once, and the first observation must not stop the others.
    not_due = (since_h < cadence_hours) & (redundancy != REDUNDANCY_CODES["simultaneous"])
    reason[not_due] = REASON_CODE["cadence_not_due"]
    reason[~np.isnan(total_needed) & (remaining <= 0)] = REASON_CODE["complete"]
    return ObservationTerms(cadence=cadence, coverage=coverage, reason=reason)


def target_terms(
    t: TargetArrays,
    jd: float,
    moon_xyz: NDArray[np.float64],
    moon_illumination: float,
    xyz_of_date: NDArray[np.float64],
    cfg: SchedulerConfig,
) -> TargetTerms:
    priority = np.clip(np.nan_to_num(t.priority, nan=5.0), 0.0, None)
    campaign = np.clip(np.nan_to_num(t.campaign_boost, nan=1.0), 0.0, None)
    # Time-critical: inside the window the boost grows from half to full toward the deadline.
    span = np.where(t.tc_end_jd > t.tc_start_jd, t.tc_end_jd - t.tc_start_jd, np.nan)
    active = (jd >= t.tc_start_jd) & (jd <= t.tc_end_jd)
    frac = np.nan_to_num((jd - t.tc_start_jd) / span, nan=1.0)
    boost = np.nan_to_num(t.tc_boost, nan=5.0)
    time_critical = np.where(active, 1.0 + (boost - 1.0) * (0.5 + 0.5 * frac), 1.0)
    history = observation_terms(
        t.cadence_hours,
        t.last_observed_jd,
        t.observations_done,
        t.total_needed,
        t.redundancy,
        jd,
        cfg,
    )
    cadence, coverage, reason = history.cadence, history.coverage, history.reason
    reason[t.expires_jd <= jd] = REASON_CODE["expired"]
    cos_sep = np.clip(xyz_of_date @ moon_xyz, -1.0, 1.0)
    separation = np.degrees(np.arccos(cos_sep))
    min_moon = np.nan_to_num(t.min_moon_distance_deg, nan=cfg.default_min_moon_deg)
    max_phase = np.nan_to_num(t.max_moon_phase, nan=1.0)
    return TargetTerms(
        priority=priority,
        campaign=campaign,
        time_critical=time_critical,
        cadence=cadence,
        coverage=coverage,
        reason=reason,
        moon_separation_deg=separation,
        moon_bad=(separation < min_moon) | (moon_illumination > max_phase),
        urgent=active,  # inside a time-critical window: placed before everything else
    )


@dataclass(frozen=True)
class SiteContext:
    """Per-site geometry at the sample times: zenith and local frame vectors of date."""

    up: NDArray[np.float64]  # (m, T, 3)
    east: NDArray[np.float64]  # (m, T, 3)
    meridian: NDArray[np.float64]  # (m, T, 3): toward hour angle 0 on the equator
    sun_alt_deg: NDArray[np.float64]  # (m, T)
    dark_minutes: NDArray[np.float32]  # (m,): minutes from now until dawn, capped at look-ahead
    moon_up: NDArray[np.bool_]  # (m,)
    moon_illumination: float
    reliability_term: NDArray[np.float64]  # (m,)
    has_horizon: NDArray[np.bool_]
    has_ha_limits: NDArray[np.bool_]


@dataclass
class PairResult:
    score: NDArray[np.float32]
    reason: NDArray[np.uint8]
    terms: dict[str, NDArray[np.float64]] | None


def evaluate_pairs(
    s: NDArray[np.intp],
    ti: NDArray[np.intp],
    sin_alt: NDArray[np.float32],
    xyz_of_date: NDArray[np.float64],
    targets: TargetArrays,
    tterms: TargetTerms,
    sites: SiteArrays,
    ctx: SiteContext,
    cfg: SchedulerConfig,
    recent: NDArray[np.bool_] | None = None,
    want_terms: bool = False,
) -> PairResult:
    """Score and first exclusion reason of pairs (s[i], ti[i]); `sin_alt` is (T, *pair shape)."""
    shape = np.broadcast_shapes(s.shape, ti.shape)
    reason = np.broadcast_to(tterms.reason[ti], shape).copy()

    def exclude(name: str, mask: NDArray[np.bool_]) -> None:
        np.putmask(reason, (reason == 0) & mask, REASON_CODE[name])

    # sin(limit) with a leading time axis: 1 for a flat limit, T where a horizon profile applies.
    sin_limit = np.sin(np.radians(sites.altitude_limit_deg))[s].astype(np.float32)[None]
    steps = sin_alt.shape[0]
    if ctx.has_horizon[s].any():
        flat = sin_limit[0]
        sin_limit = np.stack(
            [_horizon_sin_limit(s, ti, k, xyz_of_date, sites, ctx, flat) for k in range(steps)]
        )
    exclude("below_altitude_limit", sin_alt[0] < sin_limit[0])
    limited = ctx.has_ha_limits[s]
    if limited.any():
        if s.ndim == 1:  # only the pairs whose site has limits
            outside = np.zeros(shape, dtype=bool)
            sel = np.flatnonzero(limited)
            outside[sel] = ~_inside_ha_limits(s[sel], ti[sel], xyz_of_date, sites, ctx)
        else:
            outside = ~_inside_ha_limits(s, ti, xyz_of_date, sites, ctx)
        exclude("outside_hour_angle_limits", outside)
    max_am = targets.max_airmass[ti]
    exclude("airmass_above_max", ~np.isnan(max_am) & (sin_alt[0] * max_am < 1.0))
    exclude("moon_constraint", ctx.moon_up[s] & tterms.moon_bad[ti])
    tmask = targets.filter_mask[ti]
    exclude("missing_filter", (tmask != 0) & ((tmask & sites.filter_mask[s]) == 0))
    depth = sites.limiting_mag[s] - targets.magnitude[ti]
    exclude("too_faint", depth < cfg.min_depth_mag)  # NaN (unknown) compares False: allowed
    exclude("fov_too_small", targets.min_fov_arcmin[ti] > sites.fov_arcmin[s])
    # Does the plan fit before the target sets (or dawn)? Linear in sin(alt) between samples.
    above_min = _minutes_above(sin_alt, sin_limit, cfg)
    dark_min = ctx.dark_minutes[s]
    need_min = plan_minutes(targets.magnitude[ti], sites.aperture_mm[s])
    exclude("sets_before_plan_completes", np.minimum(above_min, dark_min) < need_min)
    # Last chance tonight: it drops below the limit inside the look-ahead, before dawn.
    sets_soon = above_min < np.minimum(dark_min, np.float32(cfg.lookahead_minutes))

    airmass_term = np.clip(sin_alt[0], 0.0, 1.0)
    moon_term = 1.0 - 0.5 * ctx.moon_illumination * ctx.moon_up[s] * np.exp(
        -tterms.moon_separation_deg[ti] / 30.0
    )
    capability = np.clip(0.6 + 0.1 * np.nan_to_num(depth, nan=4.0), 0.6, 1.0)
    last_chance = np.where(sets_soon, cfg.last_chance_boost, 1.0)
    recent_term = np.where(recent, cfg.recent_factor, 1.0) if recent is not None else 1.0
    site_term = (sites.weather_factor * ctx.reliability_term)[s]
    score = tterms.base[ti] * site_term * airmass_term * moon_term * capability * last_chance
    score = np.where(reason == 0, score * recent_term, 0.0).astype(np.float32)
    terms = None
    if want_terms:
        full = np.ones(shape)
        terms = {
            "priority": tterms.priority[ti] * full,
            "campaign": tterms.campaign[ti] * full,
            "time_critical": tterms.time_critical[ti] * full,
            "cadence": tterms.cadence[ti] * full,
            "coverage": tterms.coverage[ti] * full,
            "weather": sites.weather_factor[s] * full,
            "reliability": ctx.reliability_term[s] * full,
            "airmass": airmass_term * full,
            "moon": moon_term * full,
            "capability": capability * full,
            "last_chance": last_chance * full,
            "recent": recent_term * full,
        }
    return PairResult(score=score, reason=reason, terms=terms)


def _horizon_sin_limit(
    s: NDArray[np.intp],
    ti: NDArray[np.intp],
    k: int,
    xyz: NDArray[np.float64],
    sites: SiteArrays,
    ctx: SiteContext,
    flat: NDArray[np.float32],
) -> NDArray[np.float32]:
    """sin(limit) raised by the local horizon profile at each pair's azimuth."""
    out = np.array(np.broadcast_to(flat, np.broadcast_shapes(s.shape, ti.shape)), dtype=np.float32)
    for site in np.unique(s):
        profile = sites.horizon[int(site)]
        if not profile:
            continue
        rows = np.broadcast_to(s == site, out.shape)
        tsel = np.broadcast_to(ti, out.shape)[rows]
        up, east = ctx.up[site, k], ctx.east[site, k]
        north = np.cross(up, east)
        vec = xyz[tsel]
        az = np.degrees(np.arctan2(vec @ east, vec @ north)) % 360.0
        points = np.asarray(sorted(profile), dtype=float)
        prof = np.interp(az, points[:, 0], points[:, 1], period=360.0)
        lim = np.maximum(sites.altitude_limit_deg[site], prof)
        out[rows] = np.sin(np.radians(lim))
    return out


def _inside_ha_limits(
    s: NDArray[np.intp],
    ti: NDArray[np.intp],
    xyz: NDArray[np.float64],
    sites: SiteArrays,
    ctx: SiteContext,
) -> NDArray[np.bool_]:
    """Hour angle within [-east, +west] limits, from X.meridian ~ cos H and -X.east ~ sin H."""
    east_vec = ctx.east[s, 0]  # (..., 3)
    mer_vec = ctx.meridian[s, 0]
    vec = xyz[ti]
    if s.ndim == 2:  # dense: (m, 1) sites x (1, n) targets
        sin_h = -(east_vec[:, 0, :] @ xyz.T)
        cos_h = mer_vec[:, 0, :] @ xyz.T
    else:
        sin_h = -(east_vec * vec).sum(-1)
        cos_h = (mer_vec * vec).sum(-1)
    ha = np.arctan2(sin_h, cos_h)  # radians, west positive
    west = np.radians(sites.ha_west_h[s] * 15.0)
    east = np.radians(sites.ha_east_h[s] * 15.0)
    return (ha <= west) & (ha >= -east)


def _minutes_above(
    sin_alt: NDArray[np.float32], sin_limit: NDArray[np.float32], cfg: SchedulerConfig
) -> NDArray[np.float32]:
    """Minutes from now the pair stays above its limit (look-ahead if it never drops below)."""
    margin = sin_alt - sin_limit  # (T, ...)
    below = margin < 0
    first = np.argmax(below, axis=0)
    drops = below.any(axis=0)
    prev = np.take_along_axis(margin, np.maximum(first - 1, 0)[None], axis=0)[0]
    cur = np.take_along_axis(margin, first[None], axis=0)[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.clip(np.nan_to_num(prev / (prev - cur), nan=0.0), 0.0, 1.0)
    minutes = ((first - 1) + frac) * np.float32(cfg.step_minutes)
    minutes = np.where(drops, minutes, np.float32(cfg.lookahead_minutes))
    return np.where(below[0], np.float32(0.0), minutes).astype(np.float32)
