"""Rank every target for every site: dense scoring in site chunks, best entries kept per site."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from datas_core.scheduling.inputs import (
    RecentObservations,
    SchedulerConfig,
    SiteArrays,
    TargetArrays,
    empty_recent,
)
from datas_core.scheduling.terms import (
    REASON_CODE,
    REASONS,
    SiteContext,
    TargetTerms,
    evaluate_pairs,
    target_terms,
)
from datas_core.sky.moon import moon_illumination, moon_radec_rad, topocentric_altitude_deg
from datas_core.sky.night import sun_altitude_grid_deg
from datas_core.sky.precession import precess_unit_vectors
from datas_core.sky.time import local_sidereal_time_deg
from datas_core.sky.vectors import radec_to_unit


@dataclass
class SiteList:
    """One site's candidates, best first (target indices into TargetArrays)."""

    target_index: NDArray[np.intp]
    score: NDArray[np.float64]
    excluded_index: NDArray[np.intp]
    excluded_reason: list[str]
    site_reason: str | None = None  # why the whole site has no list (daylight, weather)
    eligible: int = 0


@dataclass
class NetworkRanking:
    jd: float
    config: SchedulerConfig
    lists: list[SiteList]
    target_terms: TargetTerms
    xyz_of_date: NDArray[np.float64]
    context: SiteContext
    excluded_counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    # site_index * n_targets + target_index of pairs under the same-site repeat penalty
    recent_codes: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    def recent_mask(self, s: NDArray[np.intp], t: NDArray[np.intp]) -> NDArray[np.bool_] | None:
        return _recent_mask(self.recent_codes, len(self.target_terms.priority), s, t)


def _recent_mask(
    codes: NDArray[np.int64], n: int, s: NDArray[np.intp], t: NDArray[np.intp]
) -> NDArray[np.bool_] | None:
    """Which pairs (s, t) were observed from that site within the repeat window."""
    if not codes.size:
        return None
    return np.isin(s.astype(np.int64) * n + t, codes)


def sample_times(jd: float, cfg: SchedulerConfig) -> NDArray[np.float64]:
    steps = round(cfg.lookahead_minutes / cfg.step_minutes)
    return np.asarray(jd + np.arange(steps + 1) * (cfg.step_minutes / 1440.0), dtype=np.float64)


def site_context(
    sites: SiteArrays, jd: float, cfg: SchedulerConfig
) -> tuple[SiteContext, NDArray[np.float64]]:
    times = sample_times(jd, cfg)
    lat = np.radians(sites.latitude)[:, None]
    lst = np.radians(local_sidereal_time_deg(times[None, :], sites.longitude[:, None]))
    up = np.stack(
        [
            np.cos(lat) * np.cos(lst),
            np.cos(lat) * np.sin(lst),
            np.broadcast_to(np.sin(lat), lst.shape),
        ],
        axis=-1,
    )
    east = np.stack([-np.sin(lst), np.cos(lst), np.zeros_like(lst)], axis=-1)
    meridian = np.stack([np.cos(lst), np.sin(lst), np.zeros_like(lst)], axis=-1)
    sun_alt = sun_altitude_grid_deg(times, sites.latitude, sites.longitude)
    ra_m, dec_m, dist_m = moon_radec_rad(jd)
    moon_xyz = np.array([np.cos(dec_m) * np.cos(ra_m), np.cos(dec_m) * np.sin(ra_m), np.sin(dec_m)])
    moon_geo_alt = np.degrees(np.arcsin(np.clip(up[:, 0, :] @ moon_xyz, -1.0, 1.0)))
    moon_alt = topocentric_altitude_deg(moon_geo_alt, dist_m)
    dark_minutes = _minutes_dark(sun_alt, cfg)
    ha_limited = (sites.ha_east_h < 12.0) | (sites.ha_west_h < 12.0)
    ctx = SiteContext(
        up=up,
        east=east,
        meridian=meridian,
        sun_alt_deg=sun_alt,
        dark_minutes=dark_minutes,
        moon_up=moon_alt > 0.0,
        moon_illumination=float(moon_illumination(jd)),
        reliability_term=0.5 + 0.5 * np.clip(np.nan_to_num(sites.reliability, nan=1.0), 0, 1),
        has_horizon=np.array([bool(h) for h in sites.horizon], dtype=bool),
        has_ha_limits=ha_limited,
    )
    return ctx, moon_xyz


def _minutes_dark(sun_alt: NDArray[np.float64], cfg: SchedulerConfig) -> NDArray[np.float32]:
    """Per site: minutes from now until the Sun rises above the limit (linear between samples)."""
    margin = cfg.sun_limit_deg - sun_alt  # > 0 while dark
    light = margin < 0
    first = np.argmax(light, axis=1)
    rows = np.arange(len(sun_alt))
    prev = margin[rows, np.maximum(first - 1, 0)]
    cur = margin[rows, first]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.clip(np.nan_to_num(prev / (prev - cur), nan=0.0), 0.0, 1.0)
    minutes = np.where(
        light.any(axis=1), (first - 1 + frac) * cfg.step_minutes, cfg.lookahead_minutes
    )
    return np.where(light[:, 0], 0.0, minutes).astype(np.float32)


def apparent_unit_vectors(targets: TargetArrays, jd: float) -> NDArray[np.float64]:
    return precess_unit_vectors(radec_to_unit(targets.ra_deg, targets.dec_deg), jd)


def rank_network(
    targets: TargetArrays,
    sites: SiteArrays,
    jd: float,
    cfg: SchedulerConfig | None = None,
    recent: RecentObservations | None = None,
) -> NetworkRanking:
    cfg = cfg or SchedulerConfig()
    recent = recent or empty_recent()
    clock = time.perf_counter()
    xyz = apparent_unit_vectors(targets, jd)
    ctx, moon_xyz = site_context(sites, jd, cfg)
    tterms = target_terms(targets, jd, moon_xyz, ctx.moon_illumination, xyz, cfg)
    seconds = {"prepare": time.perf_counter() - clock}

    lists: list[SiteList | None] = [None] * len(sites)
    counts = np.zeros(len(REASONS), dtype=np.int64)
    schedulable: list[int] = []
    for i in range(len(sites)):
        if ctx.sun_alt_deg[i, 0] > cfg.sun_limit_deg:
            lists[i] = _site_excluded("daylight")
        elif sites.weather_factor[i] <= 0:
            lists[i] = _site_excluded("weather", sites.weather_reason[i])
        else:
            schedulable.append(i)
    counts[REASON_CODE["daylight"]] = sum(1 for x in lists if x and x.site_reason == "daylight")

    xyz32 = xyz.astype(np.float32)
    base = tterms.base
    potential = tterms.potential
    by_base = np.argsort(-potential, kind="stable")  # best potential first, for explanations
    n = len(targets)
    recent_codes = np.unique(recent.site_index.astype(np.int64) * n + recent.target_index)
    target_ok = tterms.reason == 0
    sin_limit = np.sin(np.radians(sites.altitude_limit_deg)).astype(np.float32)
    up32 = ctx.up.astype(np.float32)

    base32 = base.astype(np.float32)
    site_term = sites.weather_factor * ctx.reliability_term
    # No term beyond priority x ... x airmass can raise a score by more than this factor.
    max_extra = max(cfg.last_chance_boost, 1.0)

    def evaluate(s: NDArray[np.intp], t: NDArray[np.intp]) -> Any:
        recent_mask = _recent_mask(recent_codes, n, s, t)
        sin_alt = pair_sin_altitude(ctx, xyz, s, t)
        return evaluate_pairs(
            s, t, sin_alt, xyz, targets, tterms, sites, ctx, cfg, recent=recent_mask
        )

    def run_chunk(chunk: list[int]) -> NDArray[np.int64]:
        sites_c = np.asarray(chunk, dtype=np.intp)
        # sin(altitude) now = zenith . target: one matrix product for the chunk.
        sin_now = up32[sites_c, 0] @ xyz32.T  # (m_c, n)
        # Prefilter on the flat limit (a horizon profile or hour-angle limit only removes more).
        above = sin_now >= sin_limit[sites_c, None]
        above &= target_ok[None, :]
        local = np.zeros(len(REASONS), dtype=np.int64)
        local[REASON_CODE["below_altitude_limit"]] += int(
            np.count_nonzero(target_ok) * len(chunk) - np.count_nonzero(above)
        )
        for code in np.unique(tterms.reason[~target_ok]):
            local[code] += int(np.count_nonzero(tterms.reason == code)) * len(chunk)
        # Upper bound of every pair's score (per site): base x airmass term. Pairs are scored
        # in bound order until the k-th best score beats every bound left (threshold algorithm).
        bound = np.multiply(sin_now, base32[None, :], out=sin_now)
        bound[~above] = 0.0
        eligible = np.count_nonzero(above, axis=1)
        keep = min(cfg.keep_per_site, n)
        rows = len(chunk)
        scored_t: list[list[NDArray[np.intp]]] = [[] for _ in range(rows)]
        scored_v: list[list[NDArray[np.float32]]] = [[] for _ in range(rows)]
        excluded_t: list[list[NDArray[np.intp]]] = [[] for _ in range(rows)]
        evaluated = np.zeros(rows, dtype=np.int64)  # how deep each row's bound order is scored
        seen: dict[int, NDArray[np.bool_]] = {}  # rows in a second round: what was scored
        last_bound = np.zeros(rows)  # no pair left unscored has a larger bound than this
        pending = list(range(rows))
        size = min(n, keep * 8)
        # Rounds over the whole chunk: one evaluation call per round, deeper each time, for the
        # rows whose k-th best score does not yet beat every bound left (threshold algorithm).
        while pending:
            batches = []
            for row in pending:
                order = _top(bound[row], size)
                if evaluated[row]:  # ties may reorder between rounds: skip by identity
                    if row not in seen:
                        seen[row] = np.zeros(n, dtype=bool)
                        for done in scored_t[row] + excluded_t[row]:
                            seen[row][done] = True
                    batch = order[~seen[row][order]]
                else:
                    batch = order
                batch = batch[bound[row][batch] > 0]
                if row in seen:
                    seen[row][batch] = True
                batches.append(batch)
                evaluated[row] = len(order)
                last_bound[row] = float(bound[row][order[-1]]) if len(order) else 0.0
            res = evaluate(
                np.repeat(sites_c[pending], [len(x) for x in batches]),
                np.concatenate(batches) if batches else np.zeros(0, np.intp),
            )
            local += np.bincount(res.reason, minlength=len(REASONS))
            offsets = np.cumsum([0] + [len(x) for x in batches])
            still = []
            for j, row in enumerate(pending):
                part = slice(offsets[j], offsets[j + 1])
                ok = res.reason[part] == 0
                scored_t[row].append(batches[j][ok])
                scored_v[row].append(res.score[part][ok])
                excluded_t[row].append(batches[j][~ok])
                depth = int(evaluated[row])
                if depth >= n:
                    continue
                next_bound = last_bound[row]
                if next_bound <= 0:
                    continue  # every pair with a positive bound is scored
                values = np.concatenate(scored_v[row])
                if len(values) >= keep and float(np.partition(values, -keep)[-keep]) >= (
                    next_bound * site_term[chunk[row]] * max_extra
                ):
                    continue  # nothing left can enter the top
                still.append(row)
            pending = still
            size = min(n, size * 4)
        for row, site in enumerate(chunk):
            values = np.concatenate(scored_v[row]) if scored_v[row] else np.zeros(0, np.float32)
            t_ok = np.concatenate(scored_t[row]) if scored_t[row] else np.zeros(0, np.intp)
            top = _top(values, keep)
            worst = _best_rejected(by_base, above[row], excluded_t[row], cfg.explain_per_site)
            worst = worst[potential[worst] > 0]
            lists[site] = SiteList(
                target_index=t_ok[top],
                score=values[top].astype(np.float64),
                excluded_index=worst,
                excluded_reason=[],
                eligible=int(eligible[row]),
            )
        return local

    clock = time.perf_counter()
    chunks = [
        schedulable[i : i + cfg.chunk_sites] for i in range(0, len(schedulable), cfg.chunk_sites)
    ]
    if cfg.threads > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(cfg.threads) as pool:
            for local in pool.map(run_chunk, chunks):
                counts += local
    else:
        for chunk in chunks:
            counts += run_chunk(chunk)
    seconds["score"] = time.perf_counter() - clock
    final = [x if x is not None else _site_excluded("daylight") for x in lists]
    _explain_exclusions(final, xyz, targets, tterms, sites, ctx, cfg)
    counts[0] = 0
    return NetworkRanking(
        jd=jd,
        config=cfg,
        lists=final,
        target_terms=tterms,
        xyz_of_date=xyz,
        context=ctx,
        excluded_counts={REASONS[i]: int(c) for i, c in enumerate(counts) if c and i},
        seconds=seconds,
        recent_codes=recent_codes,
    )


def pair_sin_altitude(
    ctx: SiteContext, xyz: NDArray[np.float64], s: NDArray[np.intp], t: NDArray[np.intp]
) -> NDArray[np.float32]:
    """sin(altitude) at every sample time for pairs (s[i], t[i]): shape (T, k)."""
    return np.einsum("ktj,kj->tk", ctx.up[s], xyz[t]).astype(np.float32)


def _explain_exclusions(
    lists: list[SiteList],
    xyz: NDArray[np.float64],
    targets: TargetArrays,
    tterms: TargetTerms,
    sites: SiteArrays,
    ctx: SiteContext,
    cfg: SchedulerConfig,
) -> None:
    s = np.concatenate(
        [np.full(len(x.excluded_index), i, np.intp) for i, x in enumerate(lists)]
        + [np.zeros(0, np.intp)]
    )
    t = np.concatenate([x.excluded_index for x in lists] + [np.zeros(0, np.intp)])
    if not len(s):
        return
    res = evaluate_pairs(
        s, t, pair_sin_altitude(ctx, xyz, s, t), xyz, targets, tterms, sites, ctx, cfg
    )
    start = 0
    for lst in lists:
        k = len(lst.excluded_index)
        lst.excluded_reason = [REASONS[c] or "lower_score" for c in res.reason[start : start + k]]
        start += k


def _best_rejected(
    by_base: NDArray[np.intp], above: NDArray[np.bool_], excluded: list[NDArray[np.intp]], k: int
) -> NDArray[np.intp]:
    """The first k targets in potential order that are below the limit or were excluded."""
    excluded_set = np.concatenate(excluded) if excluded else np.zeros(0, np.intp)
    block = max(4 * k, 256)
    found: list[NDArray[np.intp]] = []
    total = 0
    for start in range(0, len(by_base), block):
        part = by_base[start : start + block]
        mask = ~above[part] | np.isin(part, excluded_set)  # below limit, target-level, excluded
        found.append(part[mask])
        total += int(mask.sum())
        if total >= k:
            break
    return np.concatenate(found)[:k] if found else np.zeros(0, np.intp)


def _top(values: NDArray[np.floating], k: int) -> NDArray[np.intp]:
    """Indices of the k largest values, largest first."""
    if k <= 0 or values.size == 0:
        return np.zeros(0, dtype=np.intp)
    k = min(k, values.size)
    part = np.argpartition(-values, k - 1)[:k]
    return part[np.argsort(-values[part], kind="stable")]


def _site_excluded(reason: str, detail: str | None = None) -> SiteList:
    empty = np.zeros(0, dtype=np.intp)
    return SiteList(empty, np.zeros(0), empty, [], site_reason=detail or reason)
