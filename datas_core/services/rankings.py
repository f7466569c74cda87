"""Network rankings: compute and store every site's list; serve one with a live re-check."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from datas_core.db.models import Observation, Site, SiteRanking, Target
from datas_core.errors import NotFound
from datas_core.scheduling.assign import assign_network, assign_per_site
from datas_core.scheduling.entries import site_entries
from datas_core.scheduling.inputs import SchedulerConfig
from datas_core.scheduling.rank import rank_network
from datas_core.services.observed_changes import ObservationTracker
from datas_core.services.scheduling_inputs import NetworkInputs, load_network
from datas_core.sky.altaz import ApparentPlaces
from datas_core.sky.night import sun_altitude_grid_deg
from datas_core.sky.time import julian_date
from datas_core.wire_json import wire_json

RELIABILITY_MEMORY = 0.9  # weight of the past in the reliability average, per ranking run

# (target_id, ra_deg, dec_deg, priority, in_slot, score, the entry as JSON). Tuples of plain
# values and strings are invisible to Python's cyclic GC: thousands of stored lists held by a
# worker then cost no collection pauses (a dict tree per entry cost ~30 ms per full pass).
CompactEntry = tuple[int, float, float, float, bool, float, str]


def _compact(entry: dict[str, Any]) -> CompactEntry:
    body = {k: v for k, v in entry.items() if k not in ("rank", "altitude_deg")}
    return (
        int(entry["target_id"]),
        float(entry["ra_deg"]),
        float(entry["dec_deg"]),
        float(entry["priority"]),
        bool(entry.get("in_slot")),
        float(entry["score"]),
        wire_json(body),
    )


def _expand(entry: CompactEntry, rank: int, altitude_deg: float) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(entry[6])
    return {**body, "rank": rank, "altitude_deg": altitude_deg}


@dataclass
class RankingRun:
    computed_at: datetime
    valid_until: datetime
    catalog_version: int
    sites: dict[str, dict[str, Any]]  # site_id -> {"site_reason", "entries", "excluded"}
    stats: dict[str, Any] = field(default_factory=dict)


def compute_rankings(
    session: Session,
    now: datetime,
    cfg: SchedulerConfig,
    stale_minutes: float,
    site_ids: list[str] | None = None,
    assume_clear: bool = False,
    coordinate: bool = True,
    changed_since: datetime | None = None,
) -> RankingRun:
    clock = time.perf_counter()
    # Targets changed (or observed) after this instant are folded in when the list is served
    # (wall clock, taken before reading, so nothing changed during the run is missed).
    loaded_at = datetime.now(timezone.utc)
    net = load_network(session, now, cfg, stale_minutes, site_ids, assume_clear, changed_since)
    loaded = time.perf_counter()
    run = rank_inputs(net, now, cfg, coordinate)
    run.stats["loaded_at"] = loaded_at.isoformat()
    run.stats["seconds"] = {
        "load": round(loaded - clock, 3),
        **run.stats["seconds"],
        "total": round(time.perf_counter() - clock, 3),
    }
    return run


def rank_inputs(
    net: NetworkInputs, now: datetime, cfg: SchedulerConfig, coordinate: bool = True
) -> RankingRun:
    clock = time.perf_counter()
    jd = float(julian_date(now))
    ranking = rank_network(net.targets, net.sites, jd, cfg, net.recent)
    ranked = time.perf_counter()
    assigned = (
        assign_network(ranking, net.targets.redundancy) if coordinate else assign_per_site(ranking)
    )
    entries = site_entries(ranking, assigned, net.targets, net.sites)
    out: dict[str, dict[str, Any]] = {}
    for i, site_id in enumerate(net.sites.site_id):
        lst = ranking.lists[i]
        rows = []
        for rank, e in enumerate(entries[i], start=1):
            ti = e.pop("_t")
            rows.append({**net.target_rows[ti], "rank": rank, **e})
        excluded = [
            {
                "target_id": int(net.targets.target_id[ti]),
                "name": net.targets.name[ti],
                "reason": reason,
                "potential_score": round(float(ranking.target_terms.potential[ti]), 4),
            }
            for ti, reason in zip(lst.excluded_index.tolist(), lst.excluded_reason, strict=True)
        ]
        out[site_id] = {
            "site_reason": lst.site_reason,
            "entries": rows,
            "excluded": excluded,
            "eligible": lst.eligible,
        }
    return RankingRun(
        computed_at=now,
        valid_until=now + timedelta(minutes=cfg.validity_minutes),
        catalog_version=net.catalog_version,
        sites=out,
        stats={
            "targets": len(net.targets),
            "sites": len(net.sites),
            "sites_with_targets": sum(1 for v in out.values() if v["entries"]),
            "excluded_pairs": ranking.excluded_counts,
            "site_reasons": _count(v["site_reason"] for v in out.values() if v["site_reason"]),
            "coordinated": coordinate,
            "seconds": {
                "rank": round(ranked - clock, 3),
                "assign_and_describe": round(time.perf_counter() - ranked, 3),
            },
        },
    )


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        key = str(v).split(":")[0]
        out[key] = out.get(key, 0) + 1
    return out


def store_rankings(session: Session, run: RankingRun) -> None:
    """Replace every site's stored list; update site reliability from the previous lists."""
    previous = {r.site_id: r for r in session.scalars(select(SiteRanking))}
    _update_reliability(session, previous, run.computed_at)
    geometry = {
        row.site_id: {
            "latitude": row.latitude,
            "longitude": row.longitude,
            "altitude_limit_deg": row.altitude_limit_deg,
        }
        for row in session.execute(
            select(Site.site_id, Site.latitude, Site.longitude, Site.altitude_limit_deg)
        )
    }
    session.execute(delete(SiteRanking).where(SiteRanking.site_id.in_(list(run.sites))))
    session.add_all(
        SiteRanking(
            site_id=site_id,
            computed_at=run.computed_at,
            valid_until=run.valid_until,
            catalog_version=run.catalog_version,
            site_reason=(data["site_reason"] or None) and str(data["site_reason"])[:200],
            entries=data["entries"],
            excluded=data["excluded"],
            stats={
                "eligible": data["eligible"],
                "loaded_at": run.stats.get("loaded_at"),
                "site": geometry.get(site_id),
            },
        )
        for site_id, data in run.sites.items()
    )
    session.flush()


def _update_reliability(session: Session, previous: dict[str, SiteRanking], now: datetime) -> None:
    """Share of a site's slot targets that came back as observations since that ranking."""
    for site_id, row in previous.items():
        slot = [e["target_id"] for e in row.entries if e.get("in_slot")]
        if not slot or row.site_reason:
            continue
        observed = set(
            session.scalars(
                select(Observation.target_id).where(
                    Observation.site_id == site_id,
                    Observation.observed_at >= row.computed_at,
                    Observation.observed_at <= now,
                    Observation.target_id.in_(slot),
                )
            )
        )
        share = len(observed) / len(slot)
        site = session.get(Site, site_id)
        if site is not None:
            old = 1.0 if site.reliability is None else site.reliability
            site.reliability = RELIABILITY_MEMORY * old + (1 - RELIABILITY_MEMORY) * share


def serve_site_list(
    session: Session,
    site_id: str,
    now: datetime,
    cfg: SchedulerConfig,
    stale_minutes: float,
    *,
    count: int = 20,
    offset: int = 0,
    explain: bool = False,
    priority_min: float | None = None,
    campaign_target_ids: set[int] | None = None,
    stored: StoredList | None = None,
    current_version: int | None = None,
) -> dict[str, Any]:
    """The stored list re-checked now, with targets changed since folded in.

    Without a stored list valid at `now` (none yet, expired, or `now` outside it) the site is
    ranked live: the same rules, without the network's slot coordination.
    """
    excluded: list[dict[str, Any]]
    if stored is not None and stored.site_reason and stored.site_reason != "daylight":
        # Empty for weather or state: a heartbeat since then may have changed that.
        beat = session.scalar(select(Site.last_heartbeat_at).where(Site.site_id == site_id))
        if beat is not None and beat > stored.computed_at:
            stored = None
    if stored is None or not stored.valid_at(now):
        run = compute_rankings(session, now, cfg, stale_minutes, site_ids=[site_id])
        if site_id not in run.sites:
            raise NotFound(f"site {site_id!r} does not exist or is inactive; see GET /api/v1/sites")
        data = run.sites[site_id]
        entries = [_compact(e) for e in data["entries"]]
        excluded, reason = data["excluded"], data["site_reason"]
        computed_at, source = run.computed_at, "live"
    else:
        entries, reason = list(stored.entries), stored.site_reason
        excluded = json.loads(stored.excluded_json) if explain else []
        computed_at, source = stored.computed_at, "network"
        if current_version is not None and current_version != stored.catalog_version:
            loaded_at = stored.stats.get("loaded_at")
            since = datetime.fromisoformat(loaded_at) if loaded_at else computed_at
            entries = _fold_in(session, site_id, now, cfg, stale_minutes, entries, since)
            source = "network+changes"
    altitudes: list[float] = []
    dropped = 0
    if reason:
        entries = []
    else:
        geometry = stored.stats.get("site") if stored is not None else None
        entries, altitudes, dropped = _recheck(session, site_id, now, cfg, entries, geometry)
    keep = [
        i
        for i, e in enumerate(entries)
        if (priority_min is None or e[3] >= priority_min)
        and (campaign_target_ids is None or e[0] in campaign_target_ids)
    ]
    total = len(keep)
    page = [
        _expand(entries[i], rank, altitudes[i])
        for rank, i in enumerate(keep[offset : offset + count], start=offset + 1)
    ]
    body: dict[str, Any] = {
        "site_id": site_id,
        "generated_at": now.isoformat(),
        "computed_at": computed_at.isoformat(),
        "ranking": source,
        "site_reason": reason,
        "dropped_at_recheck": dropped,
        "targets": page,
        "total": total,
        "limit": count,
        "offset": offset,
        "next_offset": offset + len(page) if offset + len(page) < total else None,
    }
    if explain:
        body["excluded_targets"] = excluded
    return body


def _fold_in(
    session: Session,
    site_id: str,
    now: datetime,
    cfg: SchedulerConfig,
    stale_minutes: float,
    entries: list[CompactEntry],
    since: datetime,
) -> list[CompactEntry]:
    """Targets created or changed after the ranking, scored now for this site and merged.

    A target changed into one this site must not get (deactivated, moved out of reach) is
    dropped at once: removals fold in as fast as additions.
    """
    run = compute_rankings(
        session, now, cfg, stale_minutes, site_ids=[site_id], changed_since=since
    )
    fresh = [_compact(e) for e in run.sites.get(site_id, {}).get("entries", [])]
    changed = set(session.scalars(select(Target.target_id).where(Target.updated_at > since)))
    changed.update(e[0] for e in fresh)
    kept = [e for e in entries if e[0] not in changed]
    return sorted(kept + fresh, key=_served_order)


def _served_order(entry: CompactEntry) -> tuple[bool, float]:
    return (not entry[4], -entry[5])  # the slot first, then by score


def _recheck(
    session: Session,
    site_id: str,
    now: datetime,
    cfg: SchedulerConfig,
    entries: list[CompactEntry],
    geometry: dict[str, float] | None = None,
) -> tuple[list[CompactEntry], list[float], int]:
    """Keep what is still observable now (above the limit, Sun down), with its altitude."""
    if not entries:
        return entries, [], 0
    site: Any = SimpleNamespace(**geometry) if geometry else None
    if site is None:
        site = session.execute(
            select(Site.latitude, Site.longitude, Site.altitude_limit_deg).where(
                Site.site_id == site_id
            )
        ).one_or_none()
    if site is None:
        raise NotFound(f"site {site_id!r} does not exist; see GET /api/v1/sites")
    jd = float(julian_date(now))
    sun = float(sun_altitude_grid_deg(jd, [site.latitude], [site.longitude])[0, 0])
    if sun > cfg.sun_limit_deg:
        return [], [], len(entries)
    places = ApparentPlaces.of([e[1] for e in entries], [e[2] for e in entries], now)
    alt = places.altitude_deg(site.latitude, site.longitude, now)
    ok = alt >= site.altitude_limit_deg
    kept = [e for e, good in zip(entries, ok.tolist(), strict=True) if good]
    altitudes = [round(a, 3) for a, good in zip(alt.tolist(), ok.tolist(), strict=True) if good]
    return kept, altitudes, int(np.count_nonzero(~ok))


@dataclass(frozen=True)
class StoredList:
    """A site's stored ranking as plain data (safe to share between requests and threads)."""

    site_id: str
    computed_at: datetime
    valid_until: datetime
    catalog_version: int
    site_reason: str | None
    entries: tuple[CompactEntry, ...]
    excluded_json: str
    stats: dict[str, Any]
    observed_version: int = 0  # the ObservationTracker version folded into the entries

    def valid_at(self, when: datetime) -> bool:
        return self.computed_at <= when <= self.valid_until

    def seen_through(self) -> datetime:
        """When the ranking read its inputs: later observations are not in its scores."""
        loaded_at = self.stats.get("loaded_at")
        return datetime.fromisoformat(loaded_at) if loaded_at else self.computed_at


def _plain(row: SiteRanking) -> StoredList:
    return StoredList(
        row.site_id,
        row.computed_at,
        row.valid_until,
        row.catalog_version,
        row.site_reason,
        tuple(_compact(e) for e in row.entries),
        wire_json(row.excluded),
        row.stats or {},
    )


def stored_ranking(session: Session, site_id: str) -> StoredList | None:
    row = session.get(SiteRanking, site_id)
    return None if row is None else _plain(row)


class StoredListsCache:
    """Sites' stored lists, held per process; dropped when a new ranking is stored.

    Whether one was stored is asked at most every `recheck_seconds`; each site's row is then
    read on its first request (no burst of reading every site at once after a re-rank).
    Observations received since are looked for at the same pace (`ObservationTracker`, once
    for all sites) and folded into each list on its next request (`with_observations`).
    """

    def __init__(self, recheck_seconds: float) -> None:
        self.recheck_seconds = recheck_seconds
        self._lists: dict[str, StoredList | None] = {}
        self._marker: tuple[Any, ...] | None = None
        self._checked_at = -float("inf")
        self._looked_at = -float("inf")
        self.tracker = ObservationTracker()

    def get(self, session: Session, site_id: str) -> StoredList | None:
        now = time.monotonic()
        if now - self._checked_at >= self.recheck_seconds:
            marker = tuple(
                session.execute(select(func.max(SiteRanking.computed_at), func.count())).one()
            )
            if marker != self._marker:
                self._lists = {}
                self._marker = marker
                self.tracker.reset()
            self._checked_at = now
        lists = self._lists
        if site_id not in lists:
            lists[site_id] = stored_ranking(session, site_id)
        return lists[site_id]

    def with_observations(
        self, session: Session, stored: StoredList, now: datetime, cfg: SchedulerConfig
    ) -> StoredList:
        """`stored` with what was observed since folded in (and cached for the next request)."""
        if stored.site_reason or not stored.entries:
            return stored
        tracker, seen = self.tracker, stored.seen_through()
        clock = time.monotonic()
        if clock - self._looked_at >= self.recheck_seconds or not tracker.covers(seen):
            self._looked_at = clock
            tracker.look(session, now, cfg, start=seen)
        version = tracker.version  # changes up to it are complete (a look publishes it last)
        if version <= stored.observed_version:
            return stored
        entries = tracker.apply(
            stored.site_id, stored.entries, seen, stored.observed_version, cfg, _compact
        )
        folded = replace(
            stored,
            entries=stored.entries if entries is None else entries,
            observed_version=version,
        )
        if self._lists.get(stored.site_id) is stored:  # not replaced by a new ranking meanwhile
            self._lists[stored.site_id] = folded
        return folded

    def invalidate(self) -> None:
        self._checked_at = -float("inf")


def require_active_site(session: Session, site_id: str) -> str:
    active = session.scalar(select(Site.active).where(Site.site_id == site_id))
    if active is None:
        raise NotFound(f"site {site_id!r} does not exist; list sites with GET /api/v1/sites")
    if not active:
        raise NotFound(f"site {site_id!r} is inactive; an admin can reactivate it")
    return site_id


_refresh_lock = threading.Lock()


def refresh_if_stale(
    session: Session,
    site_id: str,
    now: datetime,
    cfg: SchedulerConfig,
    stale_minutes: float,
    cache: StoredListsCache,
) -> StoredList | None:
    """The site's stored list, re-ranking the whole network first when it has expired.

    The ranking asset normally keeps the lists fresh; this keeps the API serving the same
    network-coordinated lists when Dagster is not running. One refresh at a time per process.
    """
    stored = cache.get(session, site_id)
    if stored is None or not stored.valid_at(now):
        with _refresh_lock:
            cache.invalidate()
            stored = cache.get(session, site_id)
            if stored is None or not stored.valid_at(now):  # else refreshed meanwhile
                run = compute_rankings(session, now, cfg, stale_minutes)
                store_rankings(session, run)
                session.commit()
                cache.invalidate()
                stored = cache.get(session, site_id)
    if stored is None or not stored.valid_at(now):
        return stored
    return cache.with_observations(session, stored, now, cfg)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
