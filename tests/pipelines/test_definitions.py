"""The Dagster code location loads, and the network-status asset reads the app database."""

from __future__ import annotations

from datetime import datetime, timezone

from dagster import instance_for_test, materialize

from datas_core.db import make_session_factory, session_scope
from datas_core.schemas.sites import Heartbeat, SiteCreate
from datas_core.services import sites
from datas_pipelines.definitions import defs, network_schedule, ranking_schedule
from datas_pipelines.defs.network.assets import site_status, sites_reporting
from datas_pipelines.defs.ranking.assets import site_rankings
from datas_pipelines.resources import AppDatabase


def test_definitions_snapshot() -> None:
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert keys == {"site_status", "site_rankings", "frame_reductions", "light_curves"}
    assert network_schedule.cron_schedule == ranking_schedule.cron_schedule == "*/5 * * * *"
    assert {j.name for j in repo.get_all_jobs()} >= {
        "network_status_job",
        "ranking_job",
        "light_curves_job",
        "frame_reduction_job",
    }
    assert {"light_curves_sensor", "pending_frames_sensor"} <= {s.name for s in repo.sensor_defs}


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
