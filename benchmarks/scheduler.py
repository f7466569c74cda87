"""Full network re-rank: 10,000 targets x 100 sites and 100,000 targets x 1,000 sites.

Each re-rank scores every (target, site) pair of the sites that are dark, with a 2-hour look-ahead
(samples every 30 min), keeps 50 entries per site, runs the network assignment and describes the
served entries (terms, plan, visibility window): everything the ranking asset stores.
Baselines, measured in the same run: astropy's vectorized AltAz for all targets at the same
5 sample times, per site, timed on a sample of sites and scaled linearly to every site; and the
per-target loop of the seed's pseudocode (one SkyCoord + AltAz per target and site), timed on a
few hundred targets and extrapolated. Accuracy: our altitude against astropy's on the sample.
Goal: 100k x 1000 under 5 s, at least 30x faster than the astropy per-site baseline, peak memory
under 4 GB.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import statistics
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import emit

WHEN = datetime(2026, 11, 23, 22, 0, tzinfo=timezone.utc)
ASTROPY_SAMPLE_SITES = 4
LOOP_SAMPLE_TARGETS = 200


def _rerank(n_targets: int, n_sites: int, all_dark: bool, runs: int, queue: Any) -> None:
    """In a fresh process, so its peak memory is the ranking's own."""
    from datas_core.scheduling.assign import assign_network
    from datas_core.scheduling.entries import site_entries
    from datas_core.scheduling.inputs import SchedulerConfig
    from datas_core.scheduling.rank import rank_network
    from datas_core.scheduling.synthetic import synthetic_network
    from datas_core.sky.time import julian_date

    targets, sites = synthetic_network(n_targets, n_sites)
    cfg = SchedulerConfig(sun_limit_deg=90.0) if all_dark else SchedulerConfig()
    jd = float(julian_date(WHEN))
    times, detail = [], {}
    for _ in range(runs):
        start = time.perf_counter()
        ranking = rank_network(targets, sites, jd, cfg)
        ranked = time.perf_counter()
        assigned = assign_network(ranking, targets.redundancy)
        assigned_t = time.perf_counter()
        site_entries(ranking, assigned, targets, sites)
        end = time.perf_counter()
        times.append(end - start)
        detail = {
            "rank_s": round(ranked - start, 3),
            "assign_s": round(assigned_t - ranked, 3),
            "describe_s": round(end - assigned_t, 3),
        }
    dark = sum(1 for lst in ranking.lists if lst.site_reason != "daylight")
    queue.put(
        {
            "seconds_median": round(statistics.median(times), 3),
            "runs": [round(t, 3) for t in times],
            "last_run": detail,
            "sites_dark": dark,
            "pairs_scored_dense": dark * n_targets,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    )


def rerank(n_targets: int, n_sites: int, all_dark: bool = False, runs: int = 3) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_rerank, args=(n_targets, n_sites, all_dark, runs, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def astropy_baseline_and_accuracy(n_targets: int, n_sites: int) -> dict:
    from astropy import units as u
    from astropy.coordinates import AltAz, EarthLocation, SkyCoord, get_body, get_sun
    from astropy.time import Time

    from datas_core.scheduling.inputs import SchedulerConfig
    from datas_core.scheduling.rank import apparent_unit_vectors, sample_times, site_context
    from datas_core.scheduling.synthetic import synthetic_network
    from datas_core.sky.altaz import altaz_of_date_deg
    from datas_core.sky.astropy_offline import configure_astropy_offline
    from datas_core.sky.moon import moon_radec_rad, topocentric_altitude_deg
    from datas_core.sky.sun import sun_radec_rad
    from datas_core.sky.time import julian_date

    configure_astropy_offline()
    targets, sites = synthetic_network(n_targets, n_sites)
    cfg = SchedulerConfig()
    jd = float(julian_date(WHEN))
    times = Time(sample_times(jd, cfg), format="jd", scale="utc")
    coords = SkyCoord(targets.ra_deg * u.deg, targets.dec_deg * u.deg)
    ctx, _ = site_context(sites, jd, cfg)
    xyz = apparent_unit_vectors(targets, jd).astype(np.float32)
    warnings.simplefilter("ignore")
    # Warm astropy once (its first transform costs seconds: not the steady state).
    loc0 = EarthLocation(lat=0 * u.deg, lon=0 * u.deg)
    coords[:10].transform_to(AltAz(obstime=times[0], location=loc0))
    per_site, worst, sun_err, moon_err = [], 0.0, 0.0, 0.0
    for i in range(ASTROPY_SAMPLE_SITES):
        loc = EarthLocation(lat=sites.latitude[i] * u.deg, lon=sites.longitude[i] * u.deg)
        start = time.perf_counter()
        alts = [coords.transform_to(AltAz(obstime=t, location=loc)).alt.deg for t in times]
        per_site.append(time.perf_counter() - start)
        ours = np.degrees(np.arcsin(np.clip(ctx.up[i] @ xyz.T, -1, 1)))  # (T, n), float32 path
        worst = max(worst, float(np.abs(ours - np.array(alts)).max()))
        frame = AltAz(obstime=times, location=loc)
        sun_ref = get_sun(times).transform_to(frame).alt.deg
        ra, dec = sun_radec_rad(times.jd)
        sun_ours, _ = altaz_of_date_deg(ra, dec, sites.latitude[i], sites.longitude[i], times.jd)
        sun_err = max(sun_err, float(np.abs(sun_ours - sun_ref).max()))
        moon_ref = get_body("moon", times, loc).transform_to(frame).alt.deg
        ra, dec, dist = moon_radec_rad(times.jd)
        geo, _ = altaz_of_date_deg(ra, dec, sites.latitude[i], sites.longitude[i], times.jd)
        moon_err = max(
            moon_err, float(np.abs(topocentric_altitude_deg(geo, dist) - moon_ref).max())
        )
    # The seed's loop: one SkyCoord and one AltAz transform per target, site and time.
    loc = EarthLocation(lat=sites.latitude[0] * u.deg, lon=sites.longitude[0] * u.deg)
    frame = AltAz(obstime=times[0], location=loc)
    start = time.perf_counter()
    for k in range(LOOP_SAMPLE_TARGETS):
        SkyCoord(targets.ra_deg[k] * u.deg, targets.dec_deg[k] * u.deg).transform_to(frame)
    per_pair = (time.perf_counter() - start) / LOOP_SAMPLE_TARGETS
    return {
        "astropy_per_site_seconds": [round(x, 3) for x in per_site],
        "astropy_baseline_seconds": round(statistics.median(per_site) * n_sites, 1),
        "loop_seconds_per_pair_time": round(per_pair, 5),
        "loop_baseline_seconds": round(per_pair * n_targets * n_sites * len(times), 0),
        "max_alt_error_deg": round(worst, 4),
        "max_sun_alt_error_deg": round(sun_err, 4),
        "max_moon_alt_error_deg": round(moon_err, 4),
        "sample_times": len(times),
    }


def main() -> None:
    small = rerank(10_000, 100)
    large = rerank(100_000, 1000)
    large_dark = rerank(100_000, 1000, all_dark=True, runs=1)
    base = astropy_baseline_and_accuracy(100_000, 1000)
    result = {
        "benchmark": "scheduler",
        "goal": {
            "rank_seconds_100k_x_1000_below": 5,
            "speedup_vs_astropy_at_least": 30,
            "peak_rss_mb_below": 4096,
        },
        "baseline": "astropy vectorized AltAz per site at the same sample times, timed on "
        f"{ASTROPY_SAMPLE_SITES} sites and scaled to 1,000; the seed's per-target loop "
        f"timed on {LOOP_SAMPLE_TARGETS} targets and extrapolated",
        "when": WHEN.isoformat(),
        "lookahead_minutes": 120,
        "rank_seconds_10k_x_100": small["seconds_median"],
        "rank_seconds_100k_x_1000": large["seconds_median"],
        "rank_seconds_100k_x_1000_every_site_dark": large_dark["seconds_median"],
        "astropy_baseline_seconds_100k_x_1000": base["astropy_baseline_seconds"],
        "loop_baseline_seconds_100k_x_1000": base["loop_baseline_seconds"],
        "speedup_vs_astropy": round(base["astropy_baseline_seconds"] / large["seconds_median"], 1),
        "speedup_vs_astropy_every_site_dark": round(
            base["astropy_baseline_seconds"] / large_dark["seconds_median"], 1
        ),
        "peak_rss_mb": max(large["peak_rss_mb"], large_dark["peak_rss_mb"]),
        "max_alt_error_deg": base["max_alt_error_deg"],
        "max_sun_alt_error_deg": base["max_sun_alt_error_deg"],
        "max_moon_alt_error_deg": base["max_moon_alt_error_deg"],
        "details": {
            "10k_x_100": small,
            "100k_x_1000": large,
            "100k_x_1000_every_site_dark": large_dark,
            "baseline": base,
        },
    }
    result["goal_met"] = (
        result["rank_seconds_100k_x_1000"] < 5
        and result["rank_seconds_100k_x_1000_every_site_dark"] < 5
        and result["speedup_vs_astropy"] >= 30
        and result["peak_rss_mb"] < 4096
    )
    emit(result)


if __name__ == "__main__":
    main()
