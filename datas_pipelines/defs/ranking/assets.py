"""The network ranking: every active site's list, re-ranked on a schedule and stored."""

from datetime import datetime, timezone

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from datas_core.scheduling.config import scheduler_config
from datas_core.services import rankings
from datas_core.settings import get_settings
from datas_pipelines.defs.tables import observations, targets
from datas_pipelines.resources import AppDatabase


@asset(
    group_name="scheduling",
    # Heartbeats (weather, state) through site_status; cadence from the last observations.
    deps=["site_status", targets, observations],
    kinds={"python", "table"},
    metadata={"dagster/table_name": "site_rankings"},
    description="Ranked target lists of every active site (score terms, slot assignment), "
    "stored in the app database with a validity time and served by GET /api/v1/targets; "
    "refreshed on a schedule (DATAS_RANKING_CRON).",
)
def site_rankings(context: AssetExecutionContext, app_db: AppDatabase) -> MaterializeResult:
    settings = get_settings()
    cfg = scheduler_config(settings)
    now = datetime.now(timezone.utc)
    with app_db.session() as session:
        run = rankings.compute_rankings(session, now, cfg, settings.heartbeat_stale_minutes)
        rankings.store_rankings(session, run)
    stats = run.stats
    context.log.info(f"ranked {stats['targets']} targets for {stats['sites']} sites: {stats}")
    lines = ["| site | targets | first | why empty |", "|---|---|---|---|"]
    for site_id, data in sorted(run.sites.items()):
        first = data["entries"][0]["name"] if data["entries"] else "-"
        lines.append(
            f"| {site_id} | {len(data['entries'])} | {first} | {data['site_reason'] or ''} |"
        )
    return MaterializeResult(
        metadata={
            "targets": stats["targets"],
            "sites": stats["sites"],
            "sites_with_targets": stats["sites_with_targets"],
            "valid_until": run.valid_until.isoformat(),
            "runtime_seconds": stats["seconds"]["total"],
            "rank_seconds": stats["seconds"]["rank"],
            "site_reasons": MetadataValue.json(stats["site_reasons"]),
            "excluded_pairs": MetadataValue.json(stats["excluded_pairs"]),
            "lists": MetadataValue.md("\n".join(lines)),
        }
    )
