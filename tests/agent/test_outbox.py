"""The outbox: idempotent, durable across restarts, backoff, bounded, corrupt rows set aside."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from site_agent.outbox import Backoff, Outbox, OutboxFull


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_put_is_idempotent_and_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    box = Outbox(tmp_path / "outbox.sqlite3", clock=clock)
    assert box.put("observation", "a", {"observation_id": "a"}) is True
    assert box.put("observation", "a", {"observation_id": "a"}) is False
    box.put("observation", "b", {"observation_id": "b"})
    box.close()
    again = Outbox(tmp_path / "outbox.sqlite3", clock=clock)
    assert [i.key for i in again.due("observation")] == ["a", "b"]
    assert again.stats()["pending"] == 2


def test_backoff_grows_and_is_capped(tmp_path: Path) -> None:
    clock = Clock()
    box = Outbox(tmp_path / "o.sqlite3", backoff=Backoff(10, 60, jitter=0.0), clock=clock)
    box.put("observation", "a", {"x": 1})
    (item,) = box.due("observation")
    waits = []
    for _ in range(5):
        box.mark_retry([item.id], "server down")
        start = clock.now
        while not box.due("observation"):
            clock.now += 1
        waits.append(round(clock.now - start))
    assert waits == [10, 20, 40, 60, 60]


def test_full_outbox_refuses_loudly_and_keeps_what_it_has(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3", max_bytes=200)
    box.put("observation", "a", {"pad": "x" * 100})
    with pytest.raises(OutboxFull, match=r"outbox\.max_mb"):
        box.put("observation", "b", {"pad": "y" * 150})
    assert [i.key for i in box.due("observation")] == ["a"]
    box.mark_sent([box.due("observation")[0].id])
    assert box.put("observation", "b", {"pad": "y" * 150}) is True  # sent items free the space


def test_a_corrupt_row_is_set_aside_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    box.put("observation", "good", {"ok": True})
    box.put("observation", "bad", {"ok": True})
    raw = sqlite3.connect(path)
    raw.execute("UPDATE items SET payload = '{broken' WHERE key = 'bad'")
    raw.commit()
    raw.close()
    assert [i.key for i in box.due("observation")] == ["good"]
    assert box.stats()["dead"] == 1
    assert "corrupt" in dict(box.dead_items())["bad"]


def test_only_failures_charged_to_an_item_use_its_tries(tmp_path: Path) -> None:
    clock = Clock()
    box = Outbox(tmp_path / "o.sqlite3", backoff=Backoff(10, 60, jitter=0.0), clock=clock)
    box.put("observation", "a", {"x": 1})
    (item,) = box.due("observation")
    box.mark_retry([item.id], "server down")  # an outage: backoff only
    assert [(r.attempts, r.tries) for r in box.rows()] == [(1, 0)]
    assert box.mark_failed(item.id, "HTTP 500: boom", max_tries=3) is False
    assert box.mark_failed(item.id, "HTTP 500: boom", max_tries=3) is False
    assert box.due("observation") == []  # each failure waits its backoff too
    assert box.mark_failed(item.id, "HTTP 500: boom", max_tries=3) is True
    (row,) = box.rows(("dead",))
    assert row.tries == 3 and row.last_error == "failed 3 times, last: HTTP 500: boom"
    # queued again (after the server is fixed): due now, with fresh tries
    assert box.requeue([row.id]) == 1
    assert [(i.key, i.attempts, i.tries) for i in box.due("observation")] == [("a", 0, 0)]


def test_an_outbox_written_by_an_older_agent_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT "
        "NOT NULL UNIQUE, payload TEXT NOT NULL, size INTEGER NOT NULL, created_at REAL NOT "
        "NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL, state TEXT "
        "NOT NULL DEFAULT 'pending', last_error TEXT);"
        "INSERT INTO items (kind, key, payload, size, created_at, next_attempt_at) "
        "VALUES ('observation', 'a', '{}', 2, 0, 0);"
    )
    old.commit()
    old.close()
    box = Outbox(path)
    assert [(i.key, i.tries) for i in box.due("observation")] == [("a", 0)]
    box.close()
