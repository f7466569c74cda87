"""Reducing uploaded frames in batches: pick pending frames, claim them, reduce each one on its
own (a bad frame never stops the batch), record the outcome on the frame and the photometry as
an observation.

Frame states: received -> reducing -> reduced | rejected (the frame cannot be used: the reason
says why) | failed (something went wrong that may pass: retried up to the attempt limit).
The pipeline's observation of a frame has a fixed id derived from the frame, so a re-run
replaces it instead of adding another.

An attempt is counted when a frame's reduction begins (not when its batch is claimed), and
`results` of a `reducing` frame says which: {"claimed_at"} waiting in its batch, or
{"attempt_started_at"} being reduced. So when a run dies (killed, out of memory) only the frame
it was reducing is charged; a frame that kills its worker every time ends `failed` after
DATAS_REDUCTION_MAX_ATTEMPTS instead of being offered forever.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from datas_core.db import session_scope
from datas_core.db.models import Frame, Observation, Site, Target
from datas_core.science.catalogs import (
    CatalogError,
    ReferenceCatalog,
    SyntheticCatalog,
    open_catalog,
)
from datas_core.science.frame_io import FrameRejected, load_frame
from datas_core.science.reduce import PIPELINE_VERSION, Reduction, ReductionOptions, reduce_frame
from datas_core.settings import get_settings
from datas_core.storage.base import Store

log = logging.getLogger(__name__)
OBSERVATION_NAMESPACE = uuid.UUID("5b0e6f3c-27a1-4d0e-9c35-6a6f1d3c9e21")
SIMULATOR_INSTRUMENT = "DATAS simulator"
CLAIMED, STARTED = "claimed_at", "attempt_started_at"  # `results` of a `reducing` frame
RUN_ID = "run_id"  # in `results`: the pipeline run (Dagster run id) that reduced the frame
WORKER_DIED = re.compile(r"^the reduction worker died (\d+) times? in a row")


@dataclass
class BatchReport:
    reduced: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    observations: int = 0
    seconds: float = 0.0

    @property
    def frames(self) -> int:
        return len(self.reduced) + len(self.rejected) + len(self.failed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "reduced": len(self.reduced),
            "rejected": len(self.rejected),
            "failed": len(self.failed),
            "observations": self.observations,
            "seconds": round(self.seconds, 3),
        }


def pipeline_observation_id(frame_id: str) -> str:
    return str(uuid.uuid5(OBSERVATION_NAMESPACE, f"frame:{frame_id}"))


def pending_frame_ids(
    session: Session, limit: int, max_attempts: int, *, stale_after: timedelta | None = None
) -> list[str]:
    """Oldest first: never reduced, or failed with tries left. Claims of runs that died are
    settled first (release_stale_claims)."""
    release_stale_claims(session, max_attempts, stale_after)
    rows = session.scalars(
        select(Frame.frame_id)
        .where(_offered(max_attempts))
        .order_by(Frame.uploaded_at)
        .limit(limit)
    )
    return list(rows)


def claim(session: Session, frame_ids: list[str], *, max_attempts: int | None = None) -> list[str]:
    """Mark frames as taken by a run; frames another run took meanwhile, or without tries left,
    are left out. The attempt itself is counted when the frame's reduction begins."""
    limit = _setting(max_attempts, "reduction_max_attempts")
    now = datetime.now(timezone.utc)
    claimed = []
    for frame_id in frame_ids:
        done = session.execute(
            update(Frame)
            .where(Frame.frame_id == frame_id, _offered(limit))
            .values(status="reducing", updated_at=now, results={CLAIMED: now.isoformat()})
        )
        if done.rowcount:  # type: ignore[attr-defined]
            claimed.append(frame_id)
    return claimed


def release_stale_claims(
    session: Session, max_attempts: int, stale_after: timedelta | None = None
) -> int:
    """Settle frames left `reducing` longer than `stale_after` (DATAS_REDUCTION_STALE_MINUTES)
    by a run that stopped (killed, out of memory). The frame being reduced used its attempt: it
    becomes `failed` with the death on record, offered again only while attempts are left. Frames
    still waiting in that batch go back to the queue uncharged. Returns how many were settled."""
    if stale_after is None:
        stale_after = timedelta(minutes=get_settings().reduction_stale_minutes)
    now = datetime.now(timezone.utc)
    cutoff = now - stale_after
    rows = session.execute(
        select(Frame.frame_id, Frame.attempts, Frame.error, Frame.results).where(
            Frame.status == "reducing", Frame.updated_at < cutoff
        )
    ).all()
    for frame_id, attempts, error, results in rows:
        if _waiting(results):
            values = {"status": "received" if attempts == 0 else "failed"}
        else:  # begun, or claimed before claims were marked: count it as a death
            values = {"status": "failed", "error": _death_note(error, attempts, max_attempts)}
            log.warning("frame %s: %s", frame_id, values["error"])
        session.execute(
            update(Frame)
            .where(
                Frame.frame_id == frame_id, Frame.status == "reducing", Frame.updated_at < cutoff
            )
            .values(results=None, updated_at=now, **values)
        )
    return len(rows)


def _setting(value: int | None, name: str) -> int:
    """An explicit value, else the server setting (the pipeline passes none)."""
    return value if value is not None else int(getattr(get_settings(), name))


def _offered(max_attempts: int) -> Any:
    return or_(
        Frame.status == "received", (Frame.status == "failed") & (Frame.attempts < max_attempts)
    )


def _waiting(results: Any) -> bool:
    return isinstance(results, dict) and CLAIMED in results and STARTED not in results


def _death_note(error: str | None, attempts: int, max_attempts: int) -> str:
    known = WORKER_DIED.match(error or "")
    deaths = int(known.group(1)) + 1 if known else 1
    note = (
        f"the reduction worker died {deaths} time{'s' if deaths != 1 else ''} in a row on this "
        f"frame (out of memory, killed or hung; last during attempt {attempts})"
    )
    if attempts >= max_attempts:
        note += (
            f"; not retried: all {attempts} attempts used (DATAS_REDUCTION_MAX_ATTEMPTS="
            f"{max_attempts}). Check the frame's size and the worker's memory and logs"
        )
    return note


class CatalogChooser:
    """The reference catalog for a frame: the synthetic sky for simulator frames, else the
    configured one (opened once, reused across the batch)."""

    def __init__(self, spec: str, cache_dir: Any = None) -> None:
        self.spec = spec
        self.cache_dir = cache_dir
        self._configured: ReferenceCatalog | None = None
        self._error: str | None = None
        self._synthetic = SyntheticCatalog()

    def for_header(self, header: dict[str, Any]) -> ReferenceCatalog | None:
        if str(header.get("INSTRUME", "")).strip() == SIMULATOR_INSTRUMENT:
            return self._synthetic
        if self._configured is None and self._error is None:
            try:
                self._configured = open_catalog(self.spec, self.cache_dir)
            except CatalogError as exc:
                self._error = str(exc)
                log.warning("reference catalog unavailable: %s", exc)
        return self._configured


def reduce_batch(
    factory: sessionmaker[Session],
    store: Store,
    frame_ids: list[str],
    catalogs: CatalogChooser,
    *,
    solve_cpu_seconds: float = 20.0,
    max_frame_pixels: int | None = None,
    max_attempts: int | None = None,
    run_id: str | None = None,
) -> BatchReport:
    """Reduce the frames one after the other. `max_frame_pixels` and `max_attempts` default to
    DATAS_MAX_FRAME_PIXELS and DATAS_REDUCTION_MAX_ATTEMPTS; `run_id` (the pipeline's run) is
    recorded in each frame's `results` so a frame leads to the run that reduced it."""
    pixels = _setting(max_frame_pixels, "max_frame_pixels")
    attempts = _setting(max_attempts, "reduction_max_attempts")
    report = BatchReport()
    start = time.perf_counter()
    for i, frame_id in enumerate(frame_ids):
        try:
            outcome = _begin_attempt(factory, frame_id, frame_ids[i + 1 :], attempts, run_id) or (
                _reduce_one(factory, store, frame_id, catalogs, solve_cpu_seconds, pixels, run_id)
            )
        except Exception as exc:  # one frame's surprise must not stop the batch
            log.exception("frame %s failed", frame_id)
            error = f"{type(exc).__name__}: {exc}"
            _finish(factory, frame_id, "failed", error, _with_run({}, run_id) or None)
            outcome = "failed"
        getattr(report, outcome).append(frame_id)
        if outcome == "reduced":
            report.observations += 1
    report.seconds = time.perf_counter() - start
    return report


def _begin_attempt(
    factory: sessionmaker[Session],
    frame_id: str,
    waiting: list[str],
    max_attempts: int,
    run_id: str | None = None,
) -> str | None:
    """Count the frame's attempt and mark it begun, so that a run dying now blames this frame
    alone; keep the claims of the frames still waiting in the batch fresh. Returns "failed" when
    a run before this one died on the frame (a run retry) and no attempts are left."""
    now = datetime.now(timezone.utc)
    with session_scope(factory) as session:
        if waiting:
            session.execute(
                update(Frame)
                .where(Frame.frame_id.in_(waiting), Frame.status == "reducing")
                .values(updated_at=now)
            )
        frame = session.get(Frame, frame_id)
        if frame is None:
            return "failed"
        if frame.status == "reducing" and not _waiting(frame.results):
            frame.error = _death_note(frame.error, frame.attempts, max_attempts)
            if frame.attempts >= max_attempts:
                frame.status, frame.results = "failed", None
                return "failed"
        frame.status = "reducing"
        frame.attempts += 1
        frame.results = _with_run({STARTED: now.isoformat()}, run_id)
        frame.updated_at = now
    return None


def _reduce_one(
    factory: sessionmaker[Session],
    store: Store,
    frame_id: str,
    catalogs: CatalogChooser,
    solve_cpu_seconds: float,
    max_pixels: int,
    run_id: str | None = None,
) -> str:
    with session_scope(factory) as session:
        frame = session.get(Frame, frame_id)
        if frame is None:
            return "failed"
        site = session.get(Site, frame.site_id)
        target = session.get(Target, frame.target_id) if frame.target_id else None
        key, header = frame.storage_key, dict(frame.header or {})
        options = ReductionOptions(
            catalog=catalogs.for_header(header),
            target_ra_deg=target.ra_deg if target else None,
            target_dec_deg=target.dec_deg if target else None,
            gain=site.camera_gain if site else None,
            read_noise_e=site.read_noise_e if site else None,
            saturation_adu=site.saturation_adu if site else None,
            aperture_mm=site.aperture_mm if site else None,
            solve_cpu_seconds=solve_cpu_seconds,
            expected_zero_point=_usual_zero_point(session, frame.site_id, header.get("FILTER")),
        )
    try:
        with store.fetch(key) as path:
            started = time.perf_counter()
            # Loaded here for the server's pixel limit; too_large is refused from the headers.
            frame_data = load_frame(path, header_map=options.header_map, max_pixels=max_pixels)
            load_seconds = time.perf_counter() - started
            result = reduce_frame(frame_data, options)
    except FrameRejected as exc:
        results = _with_run({"rejected": exc.reason}, run_id)
        _finish(factory, frame_id, "rejected", f"{exc.reason}: {exc}", results)
        return "rejected"
    result.seconds["load"] = load_seconds
    result.seconds["total"] = result.seconds.get("total", 0.0) + load_seconds
    with session_scope(factory) as session:
        frame = session.get(Frame, frame_id)
        assert frame is not None
        summary = result.as_dict(max_sources=0)
        summary["observation_id"] = None
        _with_run(summary, run_id)
        if frame.target_id is not None and result.target is not None:
            summary["observation_id"] = _store_observation(session, frame, result)
        frame.status = "reduced"
        frame.error = None
        frame.results = summary
        frame.reduced_at = datetime.now(timezone.utc)
        if frame.observed_at is None:
            frame.observed_at = result.frame.observed_at
    return "reduced"


def _store_observation(session: Session, frame: Frame, result: Reduction) -> str:
    target = result.target
    assert target is not None
    observation_id = pipeline_observation_id(frame.frame_id)
    row = session.get(Observation, observation_id) or Observation(observation_id=observation_id)
    row.target_id = frame.target_id  # type: ignore[assignment]
    row.site_id = frame.site_id
    row.observed_at = result.frame.observed_at
    row.exposure_sec = result.frame.exptime
    row.filter = result.frame.filter
    row.magnitude = target.magnitude
    row.mag_error = target.mag_error
    row.flux = target.flux
    row.flux_err = target.flux_err
    row.zero_point = result.zero_point.value if result.zero_point else None
    row.comparison_stars = target.differential.comparison_ids if target.differential else []
    row.method = "pipeline-aperture"
    row.ra_deg = target.ra_deg
    row.dec_deg = target.dec_deg
    row.seeing_arcsec = result.fwhm_arcsec
    row.quality_flags = list(result.flags)
    row.frame_id = frame.frame_id
    row.pipeline_version = PIPELINE_VERSION
    row.reference_catalog = (
        f"{result.catalog_name}@{result.catalog_version}" if result.catalog_name else None
    )
    session.add(row)
    return observation_id


def _with_run(results: dict[str, Any], run_id: str | None) -> dict[str, Any]:
    if run_id:
        results[RUN_ID] = run_id
    return results


def _finish(
    factory: sessionmaker[Session],
    frame_id: str,
    status: str,
    error: str,
    results: dict[str, Any] | None,
) -> None:
    with session_scope(factory) as session:
        frame = session.get(Frame, frame_id)
        if frame is not None:
            frame.status = status
            frame.error = error[:2000]
            frame.results = results


def _usual_zero_point(session: Session, site_id: str, band: Any) -> float | None:
    """Median zero point of the site's last clear frames in this filter (for the clouds flag)."""
    if not band:
        return None
    rows = session.execute(
        select(Observation.zero_point, Observation.quality_flags)
        .where(
            Observation.site_id == site_id,
            Observation.filter == str(band),
            Observation.zero_point.is_not(None),
            Observation.method == "pipeline-aperture",
        )
        .order_by(Observation.observed_at.desc())
        .limit(50)
    ).all()
    clear = [zp for zp, flags in rows if "clouds" not in (flags or []) and zp is not None]
    if len(clear) < 5:
        return None
    value = statistics.median(clear)
    return value if math.isfinite(value) else None
