"""The Dagster code location: its asset graph (lineage, owners, groups, freshness) as a snapshot,
it loads the way the UI loads it, and the network-status asset reads the app database."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from dagster import (
    AssetCheckKey,
    AssetKey,
    Definitions,
    FreshnessPolicy,
    instance_for_test,
    materialize,
)

from datas_core.db import make_session_factory, session_scope
from datas_core.schemas.sites import Heartbeat, SiteCreate
from datas_core.services import sites
from datas_pipelines.definitions import (
    OWNERS_BY_GROUP,
    defs,
    network_schedule,
    ranking_schedule,
    within_two_ticks,
)
from datas_pipelines.defs.lightcurves.assets import target_partitions
from datas_pipelines.defs.network.assets import site_status, sites_reporting
from datas_pipelines.defs.ranking.assets import site_rankings
from datas_pipelines.resources import AppDatabase

# The lineage a data manager reads: each asset and the assets it depends on.
EXPECTED_GRAPH = {
    # external: the tables the API writes, and the alert feeds
    "sites": set(),
    "heartbeats": set(),
    "alert_feeds": set(),
    "raw_alerts": {"alert_feeds"},
    "targets": {"raw_alerts"},
    "frames": set(),
    "observations": {"frame_reductions"},
    # materialized by Dagster
    "site_status": {"sites", "heartbeats"},
    "site_rankings": {"site_status", "targets", "observations"},
    "frame_reductions": {"frames"},
    "light_curves": {"observations"},
}
MATERIALIZED = {"site_status", "site_rankings", "frame_reductions", "light_curves"}


def test_definitions_snapshot() -> None:
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    parents = {
        k.to_user_string(): {p.to_user_string() for p in graph.get(k).parent_keys}
        for k in graph.get_all_asset_keys()
    }
    assert parents == EXPECTED_GRAPH
    assert {
        k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_materializable
    } == MATERIALIZED
    assert {c.to_user_string() for c in graph.asset_check_keys} == {
        "site_status:sites_reporting",
        "frame_reductions:frame_failures",
        "frame_reductions:frame_rejections",
        "frame_reductions:frames_waiting",
        "light_curves:zero_point_scatter",
        "light_curves:flagged_share",
    }
    assert network_schedule.cron_schedule == ranking_schedule.cron_schedule == "*/5 * * * *"
    assert {j.name for j in repo.get_all_jobs()} >= {
        "network_status_job",
        "ranking_job",
        "light_curves_job",
        "frame_reduction_job",
    }
    assert {s.name for s in repo.sensor_defs} == {
        "light_curves_sensor",
        "pending_frames_sensor",
        "frames_waiting_sensor",
    }
    # unchanged behaviour: batched frame runs in-process, light curves per target partition
    frame_job = repo.get_job("frame_reduction_job")
    assert frame_job.executor_def.name == "in_process"
    assert graph.get(AssetKey("light_curves")).partitions_def == target_partitions


def test_every_asset_has_a_description_owners_and_a_group() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.description and len(node.description) > 40, name
        assert node.group_name in OWNERS_BY_GROUP, name
        assert node.owners == OWNERS_BY_GROUP[node.group_name], name
        assert node.kinds, name
    by_group = {}
    for key in graph.get_all_asset_keys():
        by_group.setdefault(graph.get(key).group_name, set()).add(key.to_user_string())
    assert by_group == {
        "network": {"sites", "heartbeats", "site_status"},
        "targets": {"alert_feeds", "raw_alerts", "targets"},
        "scheduling": {"site_rankings"},
        "frames": {"frames", "frame_reductions"},
        "photometry": {"observations", "light_curves"},
    }
    tables = {
        k.to_user_string(): graph.get(k).metadata.get("dagster/table_name")
        for k in graph.get_all_asset_keys()
        if not graph.get(k).is_materializable
    }
    assert tables == {
        "sites": "sites",
        "heartbeats": "site_status",
        "alert_feeds": None,
        "raw_alerts": "raw_alerts",
        "targets": "targets",
        "frames": "frames",
        "observations": "observations",
    }


def test_freshness_of_rankings_and_reductions() -> None:
    graph = defs.resolve_asset_graph()
    # scheduled assets: fail after two schedule intervals, warn after one and a half
    for name in ("site_rankings", "site_status"):
        assert graph.get(AssetKey(name)).freshness_policy == FreshnessPolicy.time_window(
            fail_window=timedelta(minutes=10), warn_window=timedelta(minutes=7, seconds=30)
        ), name
    assert within_two_ticks("0 * * * *") == FreshnessPolicy.time_window(
        fail_window=timedelta(hours=2), warn_window=timedelta(minutes=90)
    )
    # reductions run only when frames arrive: their freshness is the frames_waiting check
    assert graph.get(AssetKey("frame_reductions")).freshness_policy is None
    check = graph.get_check_spec(AssetCheckKey(AssetKey("frame_reductions"), "frames_waiting"))
    assert "15 min" in (check.description or "") and "60 min" in (check.description or "")


def test_definitions_load_like_the_code_location() -> None:
    Definitions.validate_loadable(defs)


def test_workspace_loads_in_the_dagster_cli(tmp_path: Path) -> None:
    """What the UI does: load workspace.yaml's code location in a fresh Dagster home."""
    root = Path(__file__).resolve().parents[2]
    dagster = Path(sys.executable).with_name("dagster")
    done = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=root,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful for code location datas" in done.stderr + done.stdout


def test_site_status_materializes_and_check_reports(engine, db_url: str) -> None:
    with session_scope(make_session_factory(engine)) as session:
        for i, lat in enumerate((10.0, -20.0, 45.0)):
            sites.create_site(
                session, SiteCreate(site_id=f"s{i}", name=f"S{i}", latitude=lat, longitude=0)
            )
        sites.record_heartbeat(
            session, "s0", Heartbeat(reported_at=datetime.now(timezone.utc), state="ready")
        )
    with instance_for_test() as instance:
        result = materialize(
            [site_status, sites_reporting],
            resources={"app_db": AppDatabase(database_url=db_url)},
            instance=instance,
        )
    assert result.success
    meta = result.asset_materializations_for_node("site_status")[0].metadata
    assert (meta["sites"].value, meta["online"].value, meta["never_seen"].value) == (3, 1, 2)
    check = result.get_asset_check_evaluations()[0]
    assert check.passed is False and check.metadata["not_reporting"].value == "s1, s2"


def test_site_rankings_materializes_and_stores_lists(engine, db_url: str) -> None:
    from datas_core.db.models import SiteRanking
    from datas_core.schemas.sites import Weather
    from datas_core.schemas.targets import TargetCreate
    from datas_core.services import targets

    with session_scope(make_session_factory(engine)) as session:
        # Two sites half a world apart: whatever the hour, at most one is in daylight.
        for site_id, lon in (("east", 120.0), ("west", -60.0)):
            sites.create_site(
                session,
                SiteCreate(
                    site_id=site_id, name=site_id, latitude=0.0, longitude=lon, filters=["V"]
                ),
            )
            sites.record_heartbeat(
                session, site_id, Heartbeat(state="ready", weather=Weather(safe=True))
            )
        targets.create_targets(
            session,
            [TargetCreate(name=f"T{i}", ra_deg=i * 15.0, dec_deg=0.0) for i in range(24)],
        )
    with instance_for_test() as instance:
        result = materialize(
            [site_rankings],
            resources={"app_db": AppDatabase(database_url=db_url)},
            instance=instance,
        )
    assert result.success
    meta = result.asset_materializations_for_node("site_rankings")[0].metadata
    assert meta["sites"].value == 2 and meta["targets"].value == 24
    assert meta["runtime_seconds"].value >= 0
    with session_scope(make_session_factory(engine)) as session:
        stored = {r.site_id: r for r in session.query(SiteRanking)}
    assert set(stored) == {"east", "west"}
    assert meta["sites_with_targets"].value == sum(1 for r in stored.values() if r.entries)
    for row in stored.values():
        assert row.valid_until > row.computed_at
        assert bool(row.entries) != bool(row.site_reason)
