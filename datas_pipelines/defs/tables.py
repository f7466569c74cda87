"""The app-database tables the API writes, as external assets: Dagster does not materialize them,
but they sit in the lineage graph so a data manager sees where each pipeline's input comes from
and where its output goes. Owners are applied in definitions.py (by group)."""

from __future__ import annotations

from typing import Any

from dagster import AssetSpec, TableColumn, TableSchema

from datas_core.db import models


def _table(model: Any) -> dict[str, Any]:
    """Table name and column schema from the SQLAlchemy model (shown on the asset page)."""
    columns = [
        TableColumn(name=c.name, type=type(c.type).__name__.lower(), description=c.comment)
        for c in model.__table__.columns
    ]
    return {
        "dagster/table_name": model.__tablename__,
        "dagster/column_schema": TableSchema(columns=columns),
    }


def _spec(key: str, model: Any, group: str, description: str, *deps: str) -> AssetSpec:
    return AssetSpec(
        key,
        deps=list(deps),
        group_name=group,
        description=description,
        kinds={"table"},
        metadata=_table(model),
        tags={"datas/written_by": "api"},
    )


sites = _spec(
    "sites",
    models.Site,
    "network",
    "Registered telescope sites (location, horizon, camera, filters, automation level): "
    "written by POST /api/v1/sites and `datas sites add`.",
)
heartbeats = _spec(
    "heartbeats",
    models.SiteStatus,
    "network",
    "One row per site heartbeat (agent state, weather, devices, agent version) in the "
    "`site_status` table: written by PUT /api/v1/sites/{id}/heartbeat.",
)
raw_alerts = _spec(
    "raw_alerts",
    models.RawAlert,
    "targets",
    "Alerts as received, append-only with a unique (feed, natural key) so replays are "
    "no-ops: written by POST /api/v1/alerts and, later, by one Dagster sensor per feed.",
    "alert_feeds",
)
targets = _spec(
    "targets",
    models.Target,
    "targets",
    "What the network observes, with requirements and aliases: created by scientists "
    "(POST /api/v1/targets, `datas targets add/import`) and by alerts matched or promoted "
    "to targets.",
    "raw_alerts",
)
frames = _spec(
    "frames",
    models.Frame,
    "frames",
    "Uploaded FITS frames and their reduction state (received, reducing, reduced, rejected, "
    "failed; `results` holds the reduction summary and the Dagster `run_id`): written by "
    "POST /api/v1/frames, the file itself in the object store.",
)
observations = _spec(
    "observations",
    models.Observation,
    "photometry",
    "Photometry points: posted by site agents (POST /api/v1/observations, idempotent by "
    "observation_id) and written by frame_reductions for reduced frames (method "
    "`pipeline-aperture`, `frame_id` set).",
    "frame_reductions",
)

APP_TABLES = [sites, heartbeats, raw_alerts, targets, frames, observations]
