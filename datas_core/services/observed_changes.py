"""Observations reach the served lists between rankings, tracked once per API worker.

Stored lists are ranked every few minutes; what a site observes must reach the lists served
after it. `ObservationTracker.look` reads the observations received since its last look (one
range on the indexed `received_at`, at most every recheck interval) and evaluates, once for all
sites, what they change about their targets with the scheduler's own rule
(`terms.observation_terms`: cadence, coverage, `cadence_not_due`, `complete`) plus which sites
observed each within `recent_hours`. `apply` then updates one site's entries in memory: the
changed terms replace the stored ones and the score is rescaled by their ratio (everything else
in an entry, geometry, weather and the network's slots, stays as ranked), an excluded target is
dropped, and a target the site itself observed leaves its slot (its slot duty is done). A request
whose list has nothing new costs a dictionary lookup per entry.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datas_core.db.models import Observation
from datas_core.scheduling.inputs import SchedulerConfig
from datas_core.scheduling.terms import observation_terms
from datas_core.services.scheduling_inputs import load_target_history
from datas_core.sky.time import julian_date

# An observation's received_at is stamped before its transaction commits: every look re-reads
# this much before the latest one seen, so a slow commit is not missed (each is applied once).
COMMIT_SETTLE = timedelta(seconds=30)

# rankings.CompactEntry: (target_id, ra, dec, priority, in_slot, score, entry as JSON)
Entry = tuple[Any, ...]


@dataclass(frozen=True)
class TargetChange:
    version: int  # the look that produced it
    received: datetime  # the latest observation of the target seen
    reason: int  # 0, or the exclusion code (cadence_not_due, complete)
    terms: dict[str, float]  # cadence, coverage
    recent_sites: frozenset[str]  # observed it within recent_hours
    observers: dict[str, datetime]  # site -> when its latest observation was received


class ObservationTracker:
    def __init__(self) -> None:
        self.version = 0
        self.since: datetime | None = None  # observations received after this are tracked
        self.changes: dict[int, TargetChange] = {}
        self._through: datetime | None = None
        self._applied: frozenset[str] = frozenset()  # ids within the settle window, seen
        self._lock = threading.Lock()

    def reset(self) -> None:
        """A new ranking was stored: its lists saw everything until they were computed."""
        with self._lock:
            self.since, self._through, self.changes, self._applied = None, None, {}, frozenset()

    def covers(self, seen_through: datetime) -> bool:
        return self.since is not None and self.since <= seen_through - COMMIT_SETTLE

    def look(self, session: Session, now: datetime, cfg: SchedulerConfig, start: datetime) -> None:
        """Fold in what was received since the last look; `start`: from where to track when
        this tracker does not reach back that far yet (a list's inputs were read then)."""
        if not self._lock.acquire(blocking=False):
            return  # another request of this worker is looking: use what is known
        try:
            if not self.covers(start):
                self.since, self._through = start - COMMIT_SETTLE, None
                self._applied = frozenset()
            self._look(session, now, cfg)
        finally:
            self._lock.release()

    def _look(self, session: Session, now: datetime, cfg: SchedulerConfig) -> None:
        assert self.since is not None
        after = self.since if self._through is None else self._through - COMMIT_SETTLE
        rows = session.execute(
            select(
                Observation.observation_id,
                Observation.target_id,
                Observation.site_id,
                Observation.received_at,
            ).where(Observation.received_at > after)
        ).all()
        received = [(r, _utc(r.received_at)) for r in rows]
        fresh = [(r, at) for r, at in received if r.observation_id not in self._applied]
        if received:
            self._through = max([at for _, at in received] + [self._through or after])
            window = self._through - COMMIT_SETTLE
            self._applied = frozenset(r.observation_id for r, at in received if at > window)
        if not fresh:
            return
        history = load_target_history(session, now, cfg, sorted({r.target_id for r, _ in fresh}))
        judged = observation_terms(
            history.cadence_hours,
            history.last_observed_jd,
            history.observations_done,
            history.total_needed,
            history.redundancy,
            float(julian_date(now)),
            cfg,
        )
        version = self.version + 1  # published after the changes: a reader never misses one
        for i, target_id in enumerate(history.target_id.tolist()):
            old = self.changes.get(target_id)
            observers = dict(old.observers) if old else {}
            for r, at in fresh:
                if r.target_id == target_id:
                    observers[r.site_id] = max(observers.get(r.site_id, at), at)
            self.changes[target_id] = TargetChange(
                version=version,
                received=max(observers.values()),
                reason=int(judged.reason[i]),
                terms={
                    "cadence": float(judged.cadence[i]),
                    "coverage": float(judged.coverage[i]),
                },
                recent_sites=history.recent_sites[i],
                observers=observers,
            )
        for target_id in {r.target_id for r, _ in fresh} - set(history.target_id.tolist()):
            self.changes.pop(target_id, None)  # inactive: the catalog fold-in drops it
        self.version = version

    def apply(
        self,
        site_id: str,
        entries: tuple[Entry, ...],
        seen_through: datetime,
        applied_version: int,
        cfg: SchedulerConfig,
        compact: Callable[[dict[str, Any]], Entry],
    ) -> tuple[Entry, ...] | None:
        """The site's entries with the changes newer than `applied_version` (and than what the
        list saw), or None when none of its targets changed."""
        after = seen_through - COMMIT_SETTLE
        changes = self.changes
        out: list[Entry] = []
        touched = False
        for entry in entries:
            change = changes.get(entry[0])
            if change is None or change.version <= applied_version or change.received <= after:
                out.append(entry)
                continue
            touched = True
            if change.reason:
                continue  # excluded now (cadence not due, complete): dropped
            terms = {
                **change.terms,
                "recent": cfg.recent_factor if site_id in change.recent_sites else 1.0,
            }
            observed_here = change.observers.get(site_id, after) > after
            out.append(_rescored(entry, terms, not observed_here, compact))
        if not touched:
            return None
        return tuple(sorted(out, key=lambda e: (not e[4], -e[5])))  # the slot first, by score


def _rescored(
    entry: Entry,
    changed: dict[str, float],
    keep_slot: bool,
    compact: Callable[[dict[str, Any]], Entry],
) -> Entry:
    """The entry with new history terms, its score scaled by their change."""
    body = json.loads(entry[6])
    terms = body["terms"]
    factor = 1.0
    for name, value in changed.items():
        if terms.get(name):
            factor *= value / terms[name]
        terms[name] = round(value, 4)
    body["score"] = round(float(body["score"]) * factor, 4)
    body["in_slot"] = bool(entry[4]) and keep_slot
    return compact(body)


def _utc(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite text from a raw row
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
