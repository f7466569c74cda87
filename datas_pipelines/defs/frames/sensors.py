"""The frames sensors: pending frames are claimed in batches and reduced in one run per batch;
between runs, the frames_waiting check is reported without launching one."""

import hashlib
import os

from dagster import (
    AssetCheckEvaluation,
    AssetKey,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    in_process_executor,
    sensor,
)

from datas_core.services import frame_reduction
from datas_core.settings import get_settings
from datas_pipelines.defs.frames import checks
from datas_pipelines.defs.frames.assets import FRAME_REDUCTION_JOB, batch_tags, frame_reductions
from datas_pipelines.resources import AppDatabase

# One asset per run: the in-process executor saves a step subprocess (seconds per run).
frame_reduction_job = define_asset_job(
    FRAME_REDUCTION_JOB, selection=[frame_reductions], executor_def=in_process_executor
)


@sensor(
    job=frame_reduction_job,
    minimum_interval_seconds=int(os.environ.get("DATAS_FRAMES_SENSOR_SECONDS", "15")),
    default_status=DefaultSensorStatus.RUNNING,
    description="Claims pending frames (received, failed with tries left) in batches of "
    "DATAS_REDUCTION_BATCH_SIZE and launches one reduction run per tick.",
)
def pending_frames_sensor(context: SensorEvaluationContext, app_db: AppDatabase):
    settings = get_settings()
    size = settings.reduction_batch_size
    with app_db.session() as session:
        pending = frame_reduction.pending_frame_ids(
            session, size * settings.reduction_runs_per_tick, settings.reduction_max_attempts
        )
        claimed = frame_reduction.claim(session, pending)
    if not claimed:
        return SkipReason("no frames waiting")
    batch = int(context.cursor or 0)
    requests = []
    for start in range(0, len(claimed), size):
        ids = claimed[start : start + size]
        batch += 1
        digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
        requests.append(
            RunRequest(
                run_key=f"frames-{batch}-{digest}",
                run_config={"ops": {"frame_reductions": {"config": {"frame_ids": ids}}}},
                tags=batch_tags(ids),
            )
        )
    return SensorResult(run_requests=requests, cursor=str(batch))


@sensor(
    minimum_interval_seconds=300,
    default_status=DefaultSensorStatus.RUNNING,
    description="Reports the frames_waiting check of frame_reductions between reduction runs, "
    "without launching a run: while it fails, every tick; then once when it passes again.",
)
def frames_waiting_sensor(context: SensorEvaluationContext, app_db: AppDatabase) -> SensorResult:
    verdict = checks.evaluate(context.instance, app_db)
    state = "pass" if verdict.passed else f"fail:{verdict.severity.value}"
    if verdict.passed and context.cursor in (None, "", "pass"):
        return SensorResult(skip_reason=verdict.description, cursor=state)
    evaluation = AssetCheckEvaluation(
        asset_key=AssetKey("frame_reductions"),
        check_name=checks.CHECK_NAME,
        passed=verdict.passed,
        severity=verdict.severity,
        description=verdict.description,
        metadata=verdict.metadata,
    )
    return SensorResult(asset_events=[evaluation], cursor=state)
