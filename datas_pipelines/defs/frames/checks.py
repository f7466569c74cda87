"""Freshness of frame reductions: when frames are waiting, reductions must have run.

A reduction run only happens when frames arrive, so "materialized in the last N minutes" would
fail every quiet day. The check asks instead about the oldest frame not yet reduced (received,
claimed, or failed with tries left):
- waited at most LATE_AFTER (15 min: the sensor ticks every 15 s and a run launches in seconds,
  so this leaves room for a full run queue): passes;
- waited longer and no reduction run was launched (nor frame_reductions materialized) since it
  was uploaded: fails as ERROR, reductions are not running (daemon down, sensor stopped, runs
  failing to launch);
- runs were launched but it has waited more than BACKLOG_AFTER (60 min: two stale-claim
  timeouts of 30 min): fails as WARN, a backlog (raise DATAS_REDUCTION_RUNS_PER_TICK or the
  queue's max_concurrent_runs, or look for runs that do not finish).
It runs in every frame reduction run, and frames_waiting_sensor reports it between runs without
launching one (so it still reports when runs cannot launch).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    DagsterInstance,
    RunsFilter,
    asset_check,
)
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from datas_core.db.models import Frame
from datas_core.settings import get_settings
from datas_pipelines.defs.frames.assets import FRAME_REDUCTION_JOB, frame_reductions
from datas_pipelines.resources import AppDatabase

CHECK_NAME = "frames_waiting"
LATE_AFTER = timedelta(minutes=15)
BACKLOG_AFTER = timedelta(minutes=60)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    severity: AssetCheckSeverity
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def oldest_waiting(session: Session, max_attempts: int) -> tuple[int, str | None, datetime | None]:
    """How many frames are not reduced yet, and the oldest one's id and upload time."""
    waiting = or_(
        Frame.status.in_(("received", "reducing")),
        (Frame.status == "failed") & (Frame.attempts < max_attempts),
    )
    count = session.scalar(select(func.count()).select_from(Frame).where(waiting)) or 0
    oldest = session.execute(
        select(Frame.frame_id, Frame.uploaded_at).where(waiting).order_by(Frame.uploaded_at)
    ).first()
    return (count, oldest[0], oldest[1]) if oldest else (0, None, None)


def evaluate(
    instance: DagsterInstance, app_db: AppDatabase, now: datetime | None = None
) -> Verdict:
    now = now or datetime.now(timezone.utc)
    with app_db.session() as session:
        count, frame_id, uploaded = oldest_waiting(session, get_settings().reduction_max_attempts)
    if uploaded is None:
        return Verdict(True, AssetCheckSeverity.WARN, "No frame is waiting.", {"waiting": 0})
    waited = now - uploaded
    meta: dict[str, Any] = {
        "waiting": count,
        "oldest_frame_id": frame_id,
        "oldest_waited_minutes": round(waited.total_seconds() / 60, 1),
    }
    if waited <= LATE_AFTER:
        return Verdict(True, AssetCheckSeverity.WARN, "Waiting frames are recent.", meta)
    launched = instance.get_runs_count(
        RunsFilter(job_name=FRAME_REDUCTION_JOB, created_after=uploaded)
    )
    last = instance.fetch_materializations(AssetKey("frame_reductions"), limit=1).records
    last_at = datetime.fromtimestamp(last[0].timestamp, timezone.utc) if last else None
    meta.update(runs_since_upload=launched, last_reduction=last_at.isoformat() if last_at else "")
    if not launched and (last_at is None or last_at < uploaded):
        return Verdict(
            False,
            AssetCheckSeverity.ERROR,
            f"Frames waiting: {count}, the oldest for {meta['oldest_waited_minutes']} min, and no "
            "reduction has run since it was uploaded: is dagster-daemon running and "
            "pending_frames_sensor on?",
            meta,
        )
    if waited > BACKLOG_AFTER:
        return Verdict(
            False,
            AssetCheckSeverity.WARN,
            f"Backlog: frames waiting: {count}, the oldest for {meta['oldest_waited_minutes']} "
            "min, although reductions run. Raise DATAS_REDUCTION_RUNS_PER_TICK or the run queue's "
            "max_concurrent_runs, or look for runs that do not finish.",
            meta,
        )
    return Verdict(True, AssetCheckSeverity.WARN, "Reductions are keeping up.", meta)


@asset_check(
    asset=frame_reductions,
    name=CHECK_NAME,
    description="Freshness of reductions: no frame waits more than "
    f"{LATE_AFTER.seconds // 60} min without a reduction run since its upload (ERROR), nor more "
    f"than {BACKLOG_AFTER.seconds // 60} min at all (WARN, a backlog).",
)
def frames_waiting(context: AssetCheckExecutionContext, app_db: AppDatabase) -> AssetCheckResult:
    verdict = evaluate(context.instance, app_db)
    return AssetCheckResult(
        passed=verdict.passed,
        severity=verdict.severity,
        description=verdict.description,
        metadata=verdict.metadata,
    )
