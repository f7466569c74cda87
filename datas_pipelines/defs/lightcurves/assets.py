"""Light curves per target (dynamic partitions "targets"), written to Parquet in the object store.

One run covers many targets (single-run backfill policy); each run also checks the data quality
of the site-nights its targets were observed in.
"""

import warnings
from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    BackfillPolicy,
    BetaWarning,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from datas_core.errors import NotFound
from datas_core.lightcurves import load_light_curve, storage_key, to_parquet_bytes
from datas_core.lightcurves.report import quality_report
from datas_core.settings import get_settings
from datas_pipelines.defs.lightcurves.resources import ObjectStore
from datas_pipelines.defs.tables import observations
from datas_pipelines.resources import AppDatabase

target_partitions = DynamicPartitionsDefinition(name="targets")

ZERO_POINT_CHECK = "zero_point_scatter"
FLAGGED_CHECK = "flagged_share"


# Dagster 1.13 calls backfill policies "beta"; single-run backfills are exactly what is wanted.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", BetaWarning)

    @asset(
        group_name="photometry",
        deps=[observations],
        kinds={"python", "parquet"},
        partitions_def=target_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        description="Each target's light curve (BJD_TDB at mid-exposure, magnitudes, flags), "
        "as Parquet at lightcurves/<target_id>.parquet in the object store.",
        check_specs=[
            AssetCheckSpec(
                ZERO_POINT_CHECK,
                asset="light_curves",
                description="Robust scatter of the zero point per site, night and filter is below "
                "DATAS_QC_ZERO_POINT_SCATTER_MAG, for the site-nights of this run's targets.",
            ),
            AssetCheckSpec(
                FLAGGED_CHECK,
                asset="light_curves",
                description="Share of observations with quality flags per site and night is below "
                "DATAS_QC_FLAGGED_SHARE, for the site-nights of this run's targets.",
            ),
        ],
    )
    def light_curves(
        context: AssetExecutionContext, app_db: AppDatabase, object_store: ObjectStore
    ) -> Iterator[Any]:
        settings = get_settings()
        store = object_store.open()
        written: list[dict[str, Any]] = []
        unknown: list[str] = []
        with app_db.session() as session:
            for key in context.partition_keys:
                try:
                    curve = load_light_curve(session, int(key))
                except (NotFound, ValueError):
                    unknown.append(key)
                    continue
                store.put_bytes(storage_key(curve.target_id), to_parquet_bytes(curve))
                written.append(
                    {"target_id": curve.target_id, "name": curve.name, "points": curve.total}
                )
            ids = [w["target_id"] for w in written]
            report = quality_report(
                session, ids, settings.qc_zero_point_scatter_mag, settings.qc_flagged_share
            )
        context.log.info(f"wrote {len(written)} light curves; unknown targets: {unknown or 'none'}")
        lines = ["| target | name | points |", "|---|---|---|"]
        lines += [f"| {w['target_id']} | {w['name']} | {w['points']} |" for w in written[:200]]
        yield MaterializeResult(
            metadata={
                "targets": len(written),
                "points": sum(w["points"] for w in written),
                "unknown_targets": ", ".join(unknown[:50]),
                "light_curves": MetadataValue.md("\n".join(lines)),
            }
        )
        high = [z for z in report.zero_points if z.exceeds]
        yield AssetCheckResult(
            check_name=ZERO_POINT_CHECK,
            passed=not high,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "limit_mag": report.max_scatter_mag,
                "site_nights": len(report.zero_points),
                "over_limit": len(high),
                "worst_robust_std": max((z.robust_std for z in report.zero_points), default=0.0),
                "table": MetadataValue.md(report.zero_point_table()),
            },
        )
        many = [f for f in report.flagged if f.exceeds]
        yield AssetCheckResult(
            check_name=FLAGGED_CHECK,
            passed=not many,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "limit_share": report.max_flagged_share,
                "site_nights": len(report.flagged),
                "over_limit": len(many),
                "worst_share": max((f.share for f in report.flagged), default=0.0),
                "table": MetadataValue.md(report.flagged_table()),
            },
        )
