"""The sensor over pending frames: each tick claims up to a batch of them and launches one run."""

import hashlib
import os

from dagster import (
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
from datas_pipelines.defs.frames.assets import frame_reductions
from datas_pipelines.resources import AppDatabase

# One asset per run: the in-process executor saves a step subprocess (seconds per run).
frame_reduction_job = define_asset_job(
    "frame_reduction_job", selection=[frame_reductions], executor_def=in_process_executor
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
                tags={"datas/frames": str(len(ids))},
            )
        )
    return SensorResult(run_requests=requests, cursor=str(batch))
