"""Network assignment: who observes what in the next slot.

The slot is the head of each site's list (`head_per_site` entries: what a site observes before
the next ranking). Urgent targets go to their best sites first; then a global greedy pass by
score fills every site's head, honouring each target's redundancy policy: `diverse` targets sit
in one site's head at a time (elsewhere they move down, scaled by `diverse_factor`),
`simultaneous` ones in up to `simultaneous_sites` heads at once, `any` without limit.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from datas_core.scheduling.inputs import REDUNDANCY_CODES, SchedulerConfig
from datas_core.scheduling.rank import NetworkRanking


@dataclass
class Assigned:
    """A site's final order: target indices, scores after redundancy, the redundancy term."""

    target_index: NDArray[np.intp]
    score: NDArray[np.float64]
    redundancy: NDArray[np.float64]
    in_slot: NDArray[np.bool_]


def _capacity(redundancy: NDArray[np.uint8], cfg: SchedulerConfig) -> NDArray[np.int64]:
    cap = np.ones(len(redundancy), dtype=np.int64)
    cap[redundancy == REDUNDANCY_CODES["simultaneous"]] = cfg.simultaneous_sites
    cap[redundancy == REDUNDANCY_CODES["any"]] = 1 << 30
    return cap


def assign_network(ranking: NetworkRanking, redundancy: NDArray[np.uint8]) -> list[Assigned]:
    cfg = ranking.config
    lists = ranking.lists
    capacity = _capacity(redundancy, cfg)
    urgent = ranking.target_terms.urgent
    taken: dict[int, int] = {}
    heads: list[list[int]] = [[] for _ in lists]

    def try_place(site: int, target: int) -> bool:
        if len(heads[site]) >= cfg.head_per_site or target in heads[site]:
            return False
        if taken.get(target, 0) >= capacity[target]:
            return False
        heads[site].append(target)
        taken[target] = taken.get(target, 0) + 1
        return True

    # Pass 1: urgent targets, each to its best-scoring sites.
    urgent_pairs = [
        (-float(score), site, int(t))
        for site, lst in enumerate(lists)
        for t, score in zip(lst.target_index, lst.score, strict=True)
        if urgent[t]
    ]
    for _, site, target in sorted(urgent_pairs):
        try_place(site, target)
    # Pass 2: everything else by score, across the network.
    heap = [
        (-float(score), site, int(t))
        for site, lst in enumerate(lists)
        for t, score in zip(lst.target_index, lst.score, strict=True)
    ]
    heapq.heapify(heap)
    open_heads = sum(
        1
        for site, lst in enumerate(lists)
        if len(lst.target_index) and len(heads[site]) < cfg.head_per_site
    )
    while heap and open_heads:
        _, site, target = heapq.heappop(heap)
        if try_place(site, target) and len(heads[site]) == cfg.head_per_site:
            open_heads -= 1

    out: list[Assigned] = []
    for site, lst in enumerate(lists):
        head = heads[site]
        head_set = set(head)
        factor = np.ones(len(lst.target_index))
        for i, t in enumerate(lst.target_index.tolist()):
            if t not in head_set and taken.get(t, 0) >= capacity[t]:
                factor[i] = cfg.diverse_factor  # in another site's slot already
        adjusted = lst.score * factor
        by_index = {t: i for i, t in enumerate(lst.target_index.tolist())}
        tail = [
            i
            for i in np.argsort(-adjusted, kind="stable").tolist()
            if int(lst.target_index[i]) not in head_set
        ]
        order = [by_index[t] for t in head] + tail
        idx = np.asarray(order, dtype=np.intp)
        out.append(
            Assigned(
                target_index=lst.target_index[idx] if len(idx) else lst.target_index,
                score=adjusted[idx] if len(idx) else adjusted,
                redundancy=factor[idx] if len(idx) else factor,
                in_slot=np.arange(len(idx)) < len(head),
            )
        )
    return out


def assign_per_site(ranking: NetworkRanking) -> list[Assigned]:
    """The baseline: every site takes its own best, unaware of the others."""
    cfg = ranking.config
    return [
        Assigned(
            target_index=lst.target_index,
            score=lst.score,
            redundancy=np.ones(len(lst.score)),
            in_slot=np.arange(len(lst.score)) < cfg.head_per_site,
        )
        for lst in ranking.lists
    ]
