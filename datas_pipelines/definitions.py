"""The Dagster code location "datas" (loaded by workspace.yaml)."""

from __future__ import annotations

import os

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    ScheduleDefinition,
    define_asset_job,
)

from datas_pipelines.defs.frames.assets import frame_reductions
from datas_pipelines.defs.frames.sensors import frame_reduction_job, pending_frames_sensor
from datas_pipelines.defs.lightcurves.assets import light_curves
from datas_pipelines.defs.lightcurves.resources import ObjectStore
from datas_pipelines.defs.lightcurves.sensors import light_curves_job, light_curves_sensor
from datas_pipelines.defs.network.assets import site_status, sites_reporting
from datas_pipelines.defs.ranking.assets import site_rankings
from datas_pipelines.resources import AppDatabase

network_job = define_asset_job("network_status_job", selection=AssetSelection.assets(site_status))

network_schedule = ScheduleDefinition(
    job=network_job,
    cron_schedule=os.environ.get("DATAS_NETWORK_STATUS_CRON", "*/5 * * * *"),
    # Running by default: `make run` should show fresh network status without clicks.
    default_status=DefaultScheduleStatus.RUNNING,
)

ranking_job = define_asset_job("ranking_job", selection=AssetSelection.assets(site_rankings))

ranking_schedule = ScheduleDefinition(
    job=ranking_job,
    cron_schedule=os.environ.get("DATAS_RANKING_CRON", "*/5 * * * *"),
    default_status=DefaultScheduleStatus.RUNNING,
)

defs = Definitions(
    assets=[site_status, site_rankings, frame_reductions, light_curves],
    asset_checks=[sites_reporting],
    jobs=[network_job, ranking_job, frame_reduction_job, light_curves_job],
    schedules=[network_schedule, ranking_schedule],
    sensors=[pending_frames_sensor, light_curves_sensor],
    resources={"app_db": AppDatabase(), "object_store": ObjectStore()},
)
