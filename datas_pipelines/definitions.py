"""The Dagster code location "datas" (loaded by workspace.yaml).

The asset graph a data manager reads (external assets are the app-database tables the API
writes, and the alert feeds):

    alert_feeds -> raw_alerts -> targets ----------------------.
    sites, heartbeats -> site_status ---------------------------+-> site_rankings
    frames -> frame_reductions -> observations -> light_curves  |
                                  observations -----------------'

Cross-cutting policy is applied here, once: owners by group, and freshness policies for the
scheduled assets (fresh within two schedule intervals).
"""

from __future__ import annotations

import os

from dagster import (
    AssetKey,
    AssetSelection,
    AssetSpec,
    DefaultScheduleStatus,
    Definitions,
    FreshnessPolicy,
    ScheduleDefinition,
    define_asset_job,
    map_asset_specs,
)
from dagster._utils.schedules import get_smallest_cron_interval  # the family is pinned

from datas_pipelines.defs.alerts.assets import alert_feeds
from datas_pipelines.defs.alerts.sensors import FEED_SENSORS
from datas_pipelines.defs.frames.assets import frame_reductions
from datas_pipelines.defs.frames.checks import frames_waiting
from datas_pipelines.defs.frames.sensors import (
    frame_reduction_job,
    frames_waiting_sensor,
    pending_frames_sensor,
)
from datas_pipelines.defs.lightcurves.assets import light_curves
from datas_pipelines.defs.lightcurves.resources import ObjectStore
from datas_pipelines.defs.lightcurves.sensors import light_curves_job, light_curves_sensor
from datas_pipelines.defs.network.assets import site_status, sites_reporting
from datas_pipelines.defs.ranking.assets import site_rankings
from datas_pipelines.defs.tables import APP_TABLES
from datas_pipelines.resources import AppDatabase

NETWORK_OPS, SCIENCE = "team:network-ops", "team:science"
# Every group has owners; an asset in a group missing here fails the code location's load.
OWNERS_BY_GROUP = {
    "network": [NETWORK_OPS],  # sites, heartbeats, site_status
    "scheduling": [NETWORK_OPS],  # site_rankings
    "targets": [SCIENCE],  # alert feeds, raw alerts, targets
    "frames": [SCIENCE],  # uploaded frames and their reductions
    "photometry": [SCIENCE],  # observations and light curves
}

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


def within_two_ticks(cron: str) -> FreshnessPolicy:
    """Fresh while updated within two intervals of its schedule (a missed tick fails); warn at
    one and a half (a tick is late)."""
    interval = get_smallest_cron_interval(str(cron))
    return FreshnessPolicy.time_window(fail_window=2 * interval, warn_window=1.5 * interval)


FRESHNESS = {
    AssetKey("site_rankings"): within_two_ticks(str(ranking_schedule.cron_schedule)),
    AssetKey("site_status"): within_two_ticks(str(network_schedule.cron_schedule)),
}


def apply_policy(spec: AssetSpec) -> AssetSpec:
    owners = OWNERS_BY_GROUP[str(spec.group_name)]
    freshness = FRESHNESS.get(spec.key)
    if freshness is None:
        return spec.replace_attributes(owners=owners)
    return spec.replace_attributes(owners=owners, freshness_policy=freshness)


defs = Definitions(
    assets=map_asset_specs(
        apply_policy,
        [
            *APP_TABLES,
            alert_feeds,
            site_status,
            site_rankings,
            frame_reductions,
            light_curves,
        ],
    ),
    asset_checks=[sites_reporting, frames_waiting],
    jobs=[network_job, ranking_job, frame_reduction_job, light_curves_job],
    schedules=[network_schedule, ranking_schedule],
    sensors=[pending_frames_sensor, frames_waiting_sensor, light_curves_sensor, *FEED_SENSORS],
    resources={"app_db": AppDatabase(), "object_store": ObjectStore()},
)
