"""Keep light curves fresh: each tick adds partitions for targets with new observations and
requests a few runs, each covering a contiguous range of target partitions."""

import os

from dagster import (
    AssetSelection,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    define_asset_job,
    sensor,
)

from datas_core.lightcurves.changes import changed_targets, partition_spans
from datas_pipelines.defs.lightcurves.assets import light_curves, target_partitions
from datas_pipelines.resources import AppDatabase

MAX_TARGETS_PER_TICK = 1000  # partition adds and partitions requested per tick
# Dagster's run tags for "one run over a partition range" (what single-run backfills launch).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

light_curves_job = define_asset_job(
    "light_curves_job",
    selection=AssetSelection.assets(light_curves),
)


@sensor(
    job=light_curves_job,
    minimum_interval_seconds=int(os.environ.get("DATAS_LIGHTCURVE_SENSOR_SECONDS", "60")),
    default_status=DefaultSensorStatus.RUNNING,
    description="Targets with new observations get a partition and a rebuilt light curve.",
)
def light_curves_sensor(context: SensorEvaluationContext, app_db: AppDatabase) -> SensorResult:
    with app_db.session() as session:
        changes = changed_targets(session, context.cursor, limit=MAX_TARGETS_PER_TICK)
    if not changes.target_ids:
        return SensorResult(skip_reason="no new observations", cursor=changes.cursor)
    keys = [str(t) for t in changes.target_ids]
    existing = context.instance.get_dynamic_partitions(target_partitions.name)
    known = set(existing)
    new = [k for k in keys if k not in known]
    spans = partition_spans([*existing, *new], keys)
    runs = [
        RunRequest(
            run_key=f"light_curves:{changes.cursor}:{first}-{last}",
            tags={RANGE_START_TAG: first, RANGE_END_TAG: last},
        )
        for first, last in spans
    ]
    context.log.info(
        f"{len(keys)} targets changed ({len(new)} new partitions), {len(runs)} runs"
        + ("; more next tick" if changes.more else "")
    )
    return SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=[target_partitions.build_add_request(new)] if new else [],
        cursor=changes.cursor,
    )
