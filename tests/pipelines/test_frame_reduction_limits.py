"""The reduction queue's limits: a frame whose reduction kills its worker is retried only up to
DATAS_REDUCTION_MAX_ATTEMPTS and then `failed` with the reason (never offered forever), frames
that merely waited in the dead run's batch are not charged, the stale threshold comes from
DATAS_REDUCTION_STALE_MINUTES, and DATAS_MAX_FRAME_PIXELS reaches the pipeline's reader."""

from __future__ import annotations

import gzip
import hashlib
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from datas_core.db import session_scope
from datas_core.db.models import Frame, Site
from datas_core.science.frame_io import fits_bytes
from datas_core.services import frame_reduction
from datas_core.settings import get_settings
from datas_core.storage.local import LocalStore

MAX_ATTEMPTS = 3
NOW_STALE = timedelta(0)  # every claim counts as stale: the run that held it is gone
HEADER = {"DATE-OBS": "2026-11-23T21:00:00", "EXPTIME": 30.0, "INSTRUME": "DATAS simulator"}


class WorkerKilled(BaseException):
    """Stands for SIGKILL / the OOM killer: nothing in the batch gets to record an outcome."""


@pytest.fixture
def queue(
    session_factory: sessionmaker[Session], tmp_path: Path, db_url: str, monkeypatch
) -> Iterator[Any]:
    monkeypatch.setenv("DATAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATAS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    with session_scope(session_factory) as session:
        session.add(Site(site_id="site-a", name="Test site", latitude=50.0, longitude=15.0))
    yield _Queue(session_factory, LocalStore(tmp_path / "store"))
    get_settings.cache_clear()


class _Queue:
    def __init__(self, factory: sessionmaker[Session], store: LocalStore) -> None:
        self.factory, self.store = factory, store
        self.catalogs = frame_reduction.CatalogChooser("synthetic")
        self.uploaded = 0

    def upload(self, data: bytes, **values: Any) -> str:
        """A frame row and its file, each later one uploaded a minute after the last."""
        self.uploaded += 1
        frame_id = str(uuid.uuid4())
        sha = hashlib.sha256(data + frame_id.encode()).hexdigest()
        key = f"frames/site-a/{sha}.fits"
        self.store.put_bytes(key, data)
        with session_scope(self.factory) as session:
            session.add(
                Frame(
                    frame_id=frame_id,
                    site_id="site-a",
                    filename=f"frame{self.uploaded}.fits",
                    storage_key=key,
                    sha256=sha,
                    size_bytes=len(data),
                    header=dict(HEADER),
                    uploaded_at=datetime(2026, 11, 23, 22, self.uploaded, tzinfo=timezone.utc),
                    **values,
                )
            )
        return frame_id

    def pending(self, stale_after: timedelta | None = NOW_STALE) -> list[str]:
        with session_scope(self.factory) as session:
            return frame_reduction.pending_frame_ids(
                session, 50, MAX_ATTEMPTS, stale_after=stale_after
            )

    def run(self, frame_ids: list[str], **options: Any) -> frame_reduction.BatchReport:
        """What the sensor and one Dagster run do: claim, then reduce the batch."""
        with session_scope(self.factory) as session:
            claimed = frame_reduction.claim(session, frame_ids, max_attempts=MAX_ATTEMPTS)
        assert claimed == frame_ids
        return frame_reduction.reduce_batch(
            self.factory, self.store, claimed, self.catalogs, max_attempts=MAX_ATTEMPTS, **options
        )

    def frame(self, frame_id: str) -> Frame:
        with session_scope(self.factory) as session:
            frame = session.get(Frame, frame_id)
            assert frame is not None
            session.expunge(frame)
            return frame

    def age(self, frame_id: str, minutes: float) -> None:
        when = datetime.now(timezone.utc) - timedelta(minutes=minutes)
        with session_scope(self.factory) as session:
            session.execute(update(Frame).where(Frame.frame_id == frame_id).values(updated_at=when))


def small_frame(value: float = 0.0) -> bytes:
    """A valid 64x64 frame; with no spread it is rejected `empty` at once (a quick outcome)."""
    image = np.full((64, 64), value, dtype=np.float32)
    return fits_bytes(image, HEADER)


def kill_worker_on(monkeypatch: pytest.MonkeyPatch, killer: bytes) -> None:
    real = frame_reduction.load_frame

    def load(path: Any, **kwargs: Any) -> Any:
        if Path(path).read_bytes() == killer:
            raise WorkerKilled
        return real(path, **kwargs)

    monkeypatch.setattr(frame_reduction, "load_frame", load)


def test_a_frame_that_kills_its_worker_fails_after_max_attempts(queue, monkeypatch) -> None:
    killer_bytes = small_frame(1.0)
    killer = queue.upload(killer_bytes)
    bystander = queue.upload(small_frame(2.0))  # waits behind the killer in every batch
    kill_worker_on(monkeypatch, killer_bytes)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        batch = queue.pending()
        assert batch == [killer, bystander]
        with pytest.raises(WorkerKilled):
            queue.run(batch)
        died = queue.frame(killer)
        assert (died.status, died.attempts) == ("reducing", attempt)
        assert died.results and "attempt_started_at" in died.results
        waiting = queue.frame(bystander)
        assert (waiting.status, waiting.attempts) == ("reducing", 0)
        assert waiting.results and set(waiting.results) == {"claimed_at"}
        if attempt < MAX_ATTEMPTS:
            assert queue.pending(stale_after=timedelta(minutes=30)) == []  # not stale yet

    assert queue.pending() == [bystander]  # the killer is settled, and no longer offered
    gone = queue.frame(killer)
    assert (gone.status, gone.attempts, gone.results) == ("failed", MAX_ATTEMPTS, None)
    assert gone.error and gone.error.startswith(
        f"the reduction worker died {MAX_ATTEMPTS} times in a row on this frame"
    )
    assert "DATAS_REDUCTION_MAX_ATTEMPTS" in gone.error
    back = queue.frame(bystander)
    assert (back.status, back.attempts, back.error) == ("received", 0, None)

    report = queue.run([bystander])
    assert report.rejected == [bystander]
    done = queue.frame(bystander)
    assert (done.status, done.attempts) == ("rejected", 1) and done.error.startswith("empty")
    assert queue.pending() == []


def test_a_death_is_on_record_and_retried_while_attempts_are_left(queue, monkeypatch) -> None:
    killer_bytes = small_frame(1.0)
    killer = queue.upload(killer_bytes)
    kill_worker_on(monkeypatch, killer_bytes)
    with pytest.raises(WorkerKilled):
        queue.run(queue.pending())
    assert queue.pending() == [killer]
    once = queue.frame(killer)
    assert (once.status, once.attempts) == ("failed", 1)
    assert once.error and once.error.startswith("the reduction worker died 1 time in a row")
    assert "not retried" not in once.error
    # Dagster re-running the same batch after the worker died: the death still counts.
    with pytest.raises(WorkerKilled):
        queue.run([killer])
    with pytest.raises(WorkerKilled):
        frame_reduction.reduce_batch(
            queue.factory, queue.store, [killer], queue.catalogs, max_attempts=MAX_ATTEMPTS
        )
    report = frame_reduction.reduce_batch(
        queue.factory, queue.store, [killer], queue.catalogs, max_attempts=MAX_ATTEMPTS
    )
    assert report.failed == [killer]
    last = queue.frame(killer)
    assert (last.status, last.attempts) == ("failed", MAX_ATTEMPTS)
    assert last.error and last.error.startswith("the reduction worker died 3 times in a row")
    assert queue.pending() == []


def test_the_stale_threshold_comes_from_settings(queue, monkeypatch) -> None:
    monkeypatch.setenv("DATAS_REDUCTION_STALE_MINUTES", "30")
    get_settings.cache_clear()
    started = {"status": "reducing", "results": {"attempt_started_at": "2026-11-23T22:00:00"}}
    # What the fault injector found: a claim re-offered forever, here after 99 attempts.
    veteran = queue.upload(small_frame(), attempts=99, **started)
    recent = queue.upload(small_frame(), attempts=1, **started)
    legacy = queue.upload(small_frame(), attempts=1, status="reducing")  # claimed by old code
    queue.age(veteran, 120)
    queue.age(recent, 29)
    queue.age(legacy, 31)
    assert queue.pending(stale_after=None) == [legacy]
    assert queue.frame(recent).status == "reducing"  # 29 minutes: its worker may be busy
    retired = queue.frame(veteran)
    assert retired.status == "failed" and retired.error
    assert "not retried: all 99 attempts used" in retired.error
    assert queue.frame(legacy).error.startswith("the reduction worker died 1 time")


def test_waiting_frames_of_a_long_batch_stay_claimed(queue, monkeypatch) -> None:
    """Each frame begun refreshes the claims of those still waiting, so a batch that takes longer
    than the stale threshold is not mistaken for a dead one by the sensor meanwhile."""
    ids = [queue.upload(small_frame(float(i))) for i in range(3)]
    real = frame_reduction.load_frame
    offered: list[list[str]] = []

    def twenty_minutes_each(path: Any, **kwargs: Any) -> Any:
        with session_scope(queue.factory) as session:
            for frame in session.query(Frame).where(Frame.frame_id.in_(ids)):
                frame.updated_at = frame.updated_at - timedelta(minutes=20)
        offered.append(queue.pending(stale_after=timedelta(minutes=30)))  # a sensor tick
        return real(path, **kwargs)

    monkeypatch.setattr(frame_reduction, "load_frame", twenty_minutes_each)
    report = queue.run(ids)
    assert report.rejected == ids and offered == [[], [], []]
    assert [queue.frame(i).attempts for i in ids] == [1, 1, 1]


def test_bombs_and_the_pixel_setting_reach_the_pipeline(queue, monkeypatch) -> None:
    header = fits.Header([("SIMPLE", True), ("BITPIX", -32), ("NAXIS", 2)])
    header.update({"NAXIS1": 100_000, "NAXIS2": 100_000, **HEADER})
    liar = queue.upload(gzip.compress(header.tostring().encode() + bytes(100)))
    image = np.random.default_rng(3).normal(1000, 10, (200, 200)).astype(np.float32)
    fine = queue.upload(fits_bytes(image, HEADER))
    queue.run([liar])
    refused = queue.frame(liar)
    assert refused.status == "rejected" and refused.results == {"rejected": "too_large"}
    assert refused.error and refused.error.startswith("too_large: ")
    assert "10,000,000,000 pixels" in refused.error

    monkeypatch.setenv("DATAS_MAX_FRAME_PIXELS", "10000")
    get_settings.cache_clear()
    queue.run([fine])
    small_limit = queue.frame(fine)
    assert small_limit.status == "rejected" and "limit of 10,000" in small_limit.error
