"""Network health: which sites are reporting. Materialized on a schedule; checked for staleness."""

from collections import Counter

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from datas_core.services import sites
from datas_core.settings import get_settings
from datas_pipelines.defs import tables
from datas_pipelines.resources import AppDatabase


def _site_states(db: AppDatabase) -> list[dict[str, object]]:
    stale = get_settings().heartbeat_stale_minutes
    with db.session() as session:
        rows = []
        offset: int | None = 0
        while offset is not None:
            page = sites.list_sites(session, limit=1000, offset=offset, active=True)
            rows += [
                {
                    "site_id": s.site_id,
                    "name": s.name,
                    "status": sites.heartbeat_state(s.last_heartbeat_at, stale),
                    "last_heartbeat_at": s.last_heartbeat_at.isoformat()
                    if s.last_heartbeat_at
                    else None,
                }
                for s in page.items
            ]
            offset = page.next_offset
    return rows


@asset(
    group_name="network",
    deps=[tables.sites, tables.heartbeats],
    kinds={"python"},
    description="Heartbeat status of every active site (online, stale, never seen), from the "
    "sites table and their last heartbeat; refreshed on a schedule (DATAS_NETWORK_STATUS_CRON).",
)
def site_status(context: AssetExecutionContext, app_db: AppDatabase) -> MaterializeResult:
    rows = _site_states(app_db)
    counts = Counter(r["status"] for r in rows)
    context.log.info(f"site status: {dict(counts)}")
    lines = ["| site | status | last heartbeat |", "|---|---|---|"]
    lines += [f"| {r['site_id']} | {r['status']} | {r['last_heartbeat_at'] or '-'} |" for r in rows]
    return MaterializeResult(
        metadata={
            "sites": len(rows),
            "online": counts.get("online", 0),
            "stale": counts.get("stale", 0),
            "never_seen": counts.get("never_seen", 0),
            "table": MetadataValue.md("\n".join(lines)),
        }
    )


@asset_check(asset=site_status, description="At least half of the active sites are online.")
def sites_reporting(app_db: AppDatabase) -> AssetCheckResult:
    rows = _site_states(app_db)
    online = sum(1 for r in rows if r["status"] == "online")
    silent = sorted(str(r["site_id"]) for r in rows if r["status"] != "online")
    return AssetCheckResult(
        passed=bool(rows) and online * 2 >= len(rows),
        severity=AssetCheckSeverity.WARN,
        metadata={"online": online, "sites": len(rows), "not_reporting": ", ".join(silent[:50])},
    )
