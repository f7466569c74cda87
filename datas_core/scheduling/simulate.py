"""A simulated night of the whole network: sites observe what they are served.

Both strategies see the same weather (a two-state Markov chain per site) and the same rules;
only the assignment differs: the network pass (`assign_network`) or every site on its own
(`assign_per_site`, the baseline).
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from datas_core.scheduling.assign import assign_network, assign_per_site
from datas_core.scheduling.inputs import RecentObservations, SchedulerConfig
from datas_core.scheduling.plan import plan_minutes
from datas_core.scheduling.rank import rank_network
from datas_core.services.scheduling_inputs import NetworkInputs
from datas_core.sky.night import tonight
from datas_core.sky.time import julian_date

HIGH_PRIORITY = 8.0


@dataclass(frozen=True)
class SimulationSettings:
    step_minutes: float = 10.0
    p_cloud_in: float = 0.04  # per step, clear -> cloudy
    p_cloud_out: float = 0.15  # per step, cloudy -> clear
    duplicate_window_minutes: float = 30.0
    seed: int = 1


def weather_sequence(n_sites: int, steps: int, sim: SimulationSettings) -> np.ndarray:
    rng = np.random.default_rng(sim.seed)
    clear = np.ones((steps, n_sites), dtype=bool)
    state = rng.random(n_sites) > 0.2
    for k in range(steps):
        flip = rng.random(n_sites)
        state = np.where(state, flip > sim.p_cloud_in, flip < sim.p_cloud_out)
        clear[k] = state
    return clear


def simulate_night(
    net: NetworkInputs,
    start: datetime,
    cfg: SchedulerConfig,
    sim: SimulationSettings,
    coordinated: bool,
) -> dict[str, object]:
    targets = copy.deepcopy(net.targets)
    sites = copy.deepcopy(net.sites)
    steps = int(24 * 60 / sim.step_minutes)
    clear = weather_sequence(len(sites), steps, sim)
    busy_until = np.full(len(sites), -np.inf)
    log: list[tuple[int, int, float]] = []  # (site, target, jd)
    jd0 = float(julian_date(start))
    for k in range(steps):
        jd = jd0 + k * sim.step_minutes / 1440.0
        sites.weather_factor = clear[k].astype(float)
        sites.weather_reason = [None if c else "clouds (simulated)" for c in clear[k]]
        recent_pairs = [(s, t) for s, t, when in log if (jd - when) * 24 <= cfg.recent_hours]
        arr = np.array(recent_pairs, dtype=np.intp).reshape(-1, 2)
        ranking = rank_network(targets, sites, jd, cfg, RecentObservations(arr[:, 0], arr[:, 1]))
        lists = (
            assign_network(ranking, targets.redundancy)
            if coordinated
            else (assign_per_site(ranking))
        )
        for s, assigned in enumerate(lists):
            if busy_until[s] > jd or not len(assigned.target_index):
                continue
            t = int(assigned.target_index[0])
            minutes = float(plan_minutes(targets.magnitude[t], sites.aperture_mm[s]))
            busy_until[s] = jd + max(minutes, sim.step_minutes) / 1440.0
            log.append((s, t, jd))
            targets.last_observed_jd[t] = jd
            targets.observations_done[t] += 1
    return _statistics(net, log, start, cfg, sim)


def _statistics(
    net: NetworkInputs,
    log: list[tuple[int, int, float]],
    start: datetime,
    cfg: SchedulerConfig,
    sim: SimulationSettings,
) -> dict[str, object]:
    t = net.targets
    observed = np.zeros(len(t), dtype=bool)
    for _, ti, _ in log:
        observed[ti] = True
    # Targets that some site could see in the dark tonight: the fair denominator.
    jd0 = float(julian_date(start))
    nights = tonight(jd0, net.sites.latitude, net.sites.longitude, cfg.sun_limit_deg)
    observable = _observable_tonight(net, nights)
    high = (t.priority >= HIGH_PRIORITY) & observable
    cadence = ~np.isnan(t.cadence_hours) & observable
    window = sim.duplicate_window_minutes / 1440.0
    by_target: dict[int, list[tuple[float, int]]] = {}
    for s, ti, jd in log:
        by_target.setdefault(ti, []).append((jd, s))
    duplicates = 0
    for events in by_target.values():
        events.sort()
        for (j1, s1), (j2, s2) in itertools.pairwise(events):
            if s1 != s2 and j2 - j1 < window:
                duplicates += 1
    return {
        "observations": len(log),
        "distinct_targets": int(observed.sum()),
        "observable_tonight": int(observable.sum()),
        "high_priority_observable": int(high.sum()),
        "high_priority_covered": int((observed & high).sum()),
        "high_priority_coverage": round(float((observed & high).sum() / max(high.sum(), 1)), 3),
        "cadence_targets_covered": round(
            float((observed & cadence).sum() / max(cadence.sum(), 1)), 3
        ),
        "same_slot_duplicates": duplicates,
    }


def _observable_tonight(net: NetworkInputs, nights: object) -> np.ndarray:
    from datas_core.scheduling.rank import apparent_unit_vectors
    from datas_core.sky.visibility import windows_tonight

    xyz = apparent_unit_vectors(net.targets, float(np.nanmin(nights.start_jd)))  # type: ignore[attr-defined]
    sin_dec = np.clip(xyz[:, 2], -1, 1)
    s = net.sites
    win = windows_tonight(
        np.arctan2(xyz[:, 1], xyz[:, 0])[None, :],
        sin_dec[None, :],
        np.sqrt(1 - sin_dec**2)[None, :],
        s.latitude[:, None],
        s.longitude[:, None],
        s.altitude_limit_deg[:, None],
        nights.start_jd[:, None],  # type: ignore[attr-defined]
        nights.end_jd[:, None],  # type: ignore[attr-defined]
    )
    return np.asarray(win.observable.any(axis=0))


def compare_strategies(
    net: NetworkInputs, night: datetime, cfg: SchedulerConfig, sim: SimulationSettings
) -> dict[str, object]:
    start = night.replace(hour=12, minute=0, second=0, microsecond=0)
    return {
        "night": start.date().isoformat(),
        "from": start.isoformat(),
        "to": (start + timedelta(days=1)).isoformat(),
        "sites": len(net.sites),
        "targets": len(net.targets),
        "step_minutes": sim.step_minutes,
        "network": simulate_night(net, start, cfg, sim, coordinated=True),
        "per_site_greedy": simulate_night(net, start, cfg, sim, coordinated=False),
    }
