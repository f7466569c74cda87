"""The durable outbox: every observation (and frame) goes through it before the server sees it.

SQLite in WAL mode under the agent's state directory. An item is keyed by its idempotency key
(the observation_id), so queuing twice is harmless and a crash between upload and
acknowledgement only causes a replay the server recognises. Failed uploads wait with
exponential backoff (`attempts`); `tries` counts only the failures that were the item's own
fault, and an item refused for good or out of tries is kept as `dead` with the reason, never
deleted silently (`datas-agent outbox retry` queues it again). The queue is bounded in bytes: a
full outbox refuses new items loudly.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    tries INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS ix_items_due ON items (state, next_attempt_at);
"""


class OutboxFull(Exception):
    """The outbox holds its byte limit of unsent items: free disk or raise `max_bytes`."""


@dataclass(frozen=True)
class Item:
    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int
    tries: int = 0


@dataclass(frozen=True)
class Row:
    """One item as an operator sees it (`datas-agent outbox list`)."""

    id: int
    kind: str
    key: str
    state: str  # pending (shown as queued), sent or dead
    attempts: int
    tries: int
    created_at: float
    next_attempt_at: float
    last_error: str | None


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 10.0
    max_seconds: float = 1800.0
    jitter: float = 0.2

    def delay(self, attempts: int, rng: random.Random) -> float:
        raw = min(self.max_seconds, self.base_seconds * 2.0 ** max(attempts - 1, 0))
        return raw * (1.0 + rng.uniform(-self.jitter, self.jitter))


class Outbox:
    def __init__(
        self,
        path: Path,
        max_bytes: int = 500 * 1024 * 1024,
        backoff: Backoff | None = None,
        clock: Any = time.time,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self.backoff = backoff or Backoff()
        self.clock = clock
        self._rng = random.Random()
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged put survives power loss
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(items)")}
        if "tries" not in columns:  # an outbox written by an older agent
            self._db.execute("ALTER TABLE items ADD COLUMN tries INTEGER NOT NULL DEFAULT 0")

    def close(self) -> None:
        self._db.close()

    def put(self, kind: str, key: str, payload: dict[str, Any]) -> bool:
        """Queue an item; False if an item with this key is already queued or sent."""
        text = json.dumps(payload, separators=(",", ":"))
        with self._lock:
            pending = self._db.execute(
                "SELECT COALESCE(SUM(size), 0) FROM items WHERE state = 'pending'"
            ).fetchone()[0]
            if pending + len(text) > self.max_bytes:
                raise OutboxFull(
                    f"the outbox at {self.path} holds {pending} bytes of unsent items (limit "
                    f"{self.max_bytes}); the server has been unreachable a long time - free disk "
                    "or raise outbox.max_mb in site.yaml"
                )
            now = self.clock()
            cur = self._db.execute(
                "INSERT OR IGNORE INTO items (kind, key, payload, size, created_at, "
                "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
                (kind, key, text, len(text), now, now),
            )
            return cur.rowcount == 1

    def due(self, kind: str, limit: int = 500) -> list[Item]:
        """Pending items whose retry time has come, oldest first. Corrupt rows are set aside."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, kind, key, payload, attempts, tries FROM items "
                "WHERE state = 'pending' AND kind = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?",
                (kind, self.clock(), limit),
            ).fetchall()
        items = []
        for row_id, row_kind, key, text, attempts, tries in rows:
            try:
                payload = json.loads(text)
                if not isinstance(payload, dict):
                    raise ValueError("payload is not a JSON object")
            except ValueError as exc:
                self.mark_dead(row_id, f"corrupt outbox row: {exc}")
                continue
            items.append(Item(row_id, row_kind, key, payload, attempts, tries))
        return items

    def mark_sent(self, ids: list[int]) -> None:
        with self._lock:
            self._db.executemany(
                "UPDATE items SET state = 'sent', last_error = NULL WHERE id = ?",
                [(i,) for i in ids],
            )

    def mark_retry(self, ids: list[int], error: str) -> None:
        now = self.clock()
        with self._lock:
            for i in ids:
                row = self._db.execute("SELECT attempts FROM items WHERE id = ?", (i,)).fetchone()
                attempts = (row[0] if row else 0) + 1
                delay = self.backoff.delay(attempts, self._rng)
                self._db.execute(
                    "UPDATE items SET attempts = ?, next_attempt_at = ?, last_error = ? "
                    "WHERE id = ?",
                    (attempts, now + delay, error[:500], i),
                )

    def mark_failed(self, row_id: int, error: str, max_tries: int) -> bool:
        """The server failed this item while it works for others: one try used, and after
        `max_tries` the item is set aside as dead (True) so it holds back nothing."""
        with self._lock:
            row = self._db.execute(
                "SELECT attempts, tries FROM items WHERE id = ?", (row_id,)
            ).fetchone()
            attempts, tries = (row[0] + 1, row[1] + 1) if row else (1, 1)
            if tries >= max_tries:
                self._db.execute(
                    "UPDATE items SET state = 'dead', attempts = ?, tries = ?, last_error = ? "
                    "WHERE id = ?",
                    (attempts, tries, f"failed {tries} times, last: {error}"[:2000], row_id),
                )
                return True
            self._db.execute(
                "UPDATE items SET attempts = ?, tries = ?, next_attempt_at = ?, last_error = ? "
                "WHERE id = ?",
                (
                    attempts,
                    tries,
                    self.clock() + self.backoff.delay(attempts, self._rng),
                    error[:500],
                    row_id,
                ),
            )
            return False

    def mark_dead(self, row_id: int, error: str) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE items SET state = 'dead', last_error = ? WHERE id = ?",
                (error[:2000], row_id),
            )

    def stats(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT state, COUNT(*), COALESCE(SUM(size), 0) FROM items GROUP BY state"
            ).fetchall()
        out = {"pending": 0, "sent": 0, "dead": 0, "pending_bytes": 0}
        for state, count, size in rows:
            out[state] = count
            if state == "pending":
                out["pending_bytes"] = size
        return out

    def dead_items(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._db.execute("SELECT key, last_error FROM items WHERE state = 'dead'"))

    def rows(self, states: tuple[str, ...] = ("pending", "dead"), limit: int = 1000) -> list[Row]:
        marks = ",".join("?" * len(states))
        with self._lock:
            found = self._db.execute(
                "SELECT id, kind, key, state, attempts, tries, created_at, next_attempt_at, "
                f"last_error FROM items WHERE state IN ({marks}) ORDER BY id LIMIT ?",
                (*states, limit),
            ).fetchall()
        return [Row(*r) for r in found]

    def find(self, refs: list[str]) -> tuple[list[int], list[str]]:
        """Row ids for references (a row id or a key), and the references that match nothing."""
        ids, missing = [], []
        with self._lock:
            for ref in refs:
                row = self._db.execute(
                    "SELECT id FROM items WHERE key = ? OR (? AND id = ?)",
                    (ref, ref.isdigit(), int(ref) if ref.isdigit() else -1),
                ).fetchone()
                if row:
                    ids.append(int(row[0]))
                else:
                    missing.append(ref)
        return ids, missing

    def dead_ids(self) -> list[int]:
        with self._lock:
            return [int(r[0]) for r in self._db.execute("SELECT id FROM items WHERE state='dead'")]

    def requeue(self, ids: list[int]) -> int:
        """Dead or waiting items due now with fresh tries (after the server or the key is
        fixed); sent items stay sent."""
        with self._lock:
            cur = self._db.executemany(
                "UPDATE items SET state = 'pending', attempts = 0, tries = 0, "
                "next_attempt_at = ? WHERE id = ? AND state != 'sent'",
                [(self.clock(), i) for i in ids],
            )
            return cur.rowcount

    def drop(self, ids: list[int]) -> int:
        """Forget items for good (an operator's decision: they are never uploaded)."""
        with self._lock:
            cur = self._db.executemany("DELETE FROM items WHERE id = ?", [(i,) for i in ids])
            return cur.rowcount

    def prune_sent(self, older_than_seconds: float = 7 * 86400) -> int:
        """Forget acknowledged items after a while (their keys keep replays harmless until then)."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM items WHERE state = 'sent' AND created_at < ?",
                (self.clock() - older_than_seconds,),
            )
            return cur.rowcount
