"""Frame reductions: one Dagster run reduces a batch of uploaded frames (never one run per
frame: a run costs seconds to launch). Frame state lives in the app database."""

from collections.abc import Mapping

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Backoff,
    Config,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)

from datas_core.services import frame_reduction
from datas_core.settings import get_settings
from datas_core.storage import store_from_settings
from datas_pipelines.defs.tables import frames
from datas_pipelines.resources import AppDatabase

MAX_FAILED_SHARE = 0.1
FRAME_REDUCTION_JOB = "frame_reduction_job"  # defined in sensors.py
# Run tags that tie a batch run to its frames (each frame's `results.run_id` ties it back).
FRAMES_TAG, FIRST_FRAME_TAG, LAST_FRAME_TAG = (
    "datas/frames",
    "datas/first_frame",
    "datas/last_frame",
)


def batch_tags(frame_ids: list[str]) -> dict[str, str]:
    """The tags of the run reducing these frames: how many, and the first and last frame id."""
    if not frame_ids:
        return {FRAMES_TAG: "0"}
    return {
        FRAMES_TAG: str(len(frame_ids)),
        FIRST_FRAME_TAG: frame_ids[0],
        LAST_FRAME_TAG: frame_ids[-1],
    }


class FrameBatch(Config):
    frame_ids: list[str] = []


@asset(
    group_name="frames",
    deps=[frames],
    kinds={"python", "fits"},
    description="Reductions of uploaded frames (validation, astrometry, photometry, calibration, "
    "flags), written to each frame's row (with the run's id in `results.run_id`) and as "
    "observations; one run per batch of frames, tagged datas/frames, datas/first_frame and "
    "datas/last_frame.",
    # A run that fails as a whole (database or object store away) is retried; single frames
    # that fail are recorded on their row and retried by later batches.
    retry_policy=RetryPolicy(max_retries=2, delay=5, backoff=Backoff.EXPONENTIAL),
    check_specs=[
        AssetCheckSpec(
            "frame_failures",
            asset="frame_reductions",
            description=f"At most {MAX_FAILED_SHARE:.0%} of a batch's frames failed (errors "
            "other than a rejected frame: storage, software).",
        ),
        AssetCheckSpec(
            "frame_rejections",
            asset="frame_reductions",
            description="Share of the batch's frames rejected (bad files, empty sky, pointing).",
        ),
    ],
)
def frame_reductions(
    context: AssetExecutionContext, config: FrameBatch, app_db: AppDatabase
) -> MaterializeResult:
    settings = get_settings()
    store = store_from_settings(settings)
    catalogs = frame_reduction.CatalogChooser(
        settings.reference_catalog, settings.home_dir / "catalog-cache"
    )
    ids = list(config.frame_ids)
    if not ids:  # launched by hand: take what is pending
        with app_db.session() as session:
            pending = frame_reduction.pending_frame_ids(
                session, settings.reduction_batch_size, settings.reduction_max_attempts
            )
            ids = frame_reduction.claim(session, pending)
    _tag_run(context, batch_tags(ids))
    with app_db.session_factory() as factory:
        report = frame_reduction.reduce_batch(
            factory,
            store,
            ids,
            catalogs,
            solve_cpu_seconds=settings.solve_cpu_seconds,
            run_id=context.run.run_id,
        )
    context.log.info(f"reduced a batch of {report.frames} frames: {report.as_dict()}")
    lines = ["| frame | outcome |", "|---|---|"]
    for outcome in ("reduced", "rejected", "failed"):
        lines += [f"| {f} | {outcome} |" for f in getattr(report, outcome)[:200]]
    frames = max(report.frames, 1)
    failed_share = len(report.failed) / frames
    rejected_share = len(report.rejected) / frames
    checks = [
        AssetCheckResult(
            check_name="frame_failures",
            passed=failed_share <= MAX_FAILED_SHARE,
            severity=AssetCheckSeverity.ERROR,
            metadata={"failed": len(report.failed), "failed_share": round(failed_share, 3)},
        ),
        AssetCheckResult(
            check_name="frame_rejections",
            passed=rejected_share <= 0.5,
            severity=AssetCheckSeverity.WARN,
            metadata={"rejected": len(report.rejected), "rejected_share": round(rejected_share, 3)},
        ),
    ]
    return MaterializeResult(
        check_results=checks,
        metadata={
            **report.as_dict(),
            "frames_per_minute": round(60 * report.frames / report.seconds, 1)
            if report.seconds
            else 0.0,
            "frames": MetadataValue.md("\n".join(lines)),
        },
    )


def _tag_run(context: AssetExecutionContext, tags: Mapping[str, str]) -> None:
    """Runs the sensor launched carry these tags already; a run launched by hand gets them here."""
    missing = {k: v for k, v in tags.items() if context.run.tags.get(k) != v}
    if missing:
        context.instance.add_run_tags(context.run.run_id, missing)
