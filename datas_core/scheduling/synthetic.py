"""A synthetic network at any scale (benchmarks, tests): realistic spreads, fixed seed."""

from __future__ import annotations

import numpy as np

from datas_core.scheduling.inputs import (
    FilterVocabulary,
    SiteArrays,
    TargetArrays,
    build_sites,
    build_targets,
)


def synthetic_network(
    n_targets: int, n_sites: int, seed: int = 1
) -> tuple[TargetArrays, SiteArrays]:
    rng = np.random.default_rng(seed)
    vocabulary = FilterVocabulary()
    targets = build_targets(
        np.arange(n_targets),
        rng.uniform(0, 360, n_targets),
        np.degrees(np.arcsin(rng.uniform(-1, 1, n_targets))),
        vocabulary,
        magnitude=rng.uniform(6, 17, n_targets),
        priority=rng.integers(1, 11, n_targets).astype(float),
        filters=[["V"] if i % 3 else ["B", "V"] for i in range(n_targets)],
        cadence_hours=np.where(rng.random(n_targets) < 0.3, 24.0, np.nan),
        redundancy=np.where(rng.random(n_targets) < 0.05, 1, 0),
    )
    sites = build_sites(
        [f"site-{i:04d}" for i in range(n_sites)],
        np.degrees(np.arcsin(rng.uniform(-0.9, 0.9, n_sites))),
        rng.uniform(-180, 180, n_sites),
        vocabulary,
        filters=[["B", "V", "R"] if i % 4 else ["V"] for i in range(n_sites)],
        aperture_mm=rng.choice([200.0, 280.0, 350.0, 400.0, 600.0], n_sites),
        limiting_mag=rng.uniform(15, 19, n_sites),
        altitude_limit_deg=rng.choice([15.0, 20.0, 25.0, 30.0], n_sites),
        ha_east_h=np.where(rng.random(n_sites) < 0.1, 4.0, 12.0),
        ha_west_h=np.where(rng.random(n_sites) < 0.1, 4.0, 12.0),
    )
    return targets, sites
