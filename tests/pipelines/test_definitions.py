"""The Dagster code location loads, and the network-status asset reads the app database."""

from __future__ import annotations

from datetime import datetime, timezone

from dagster import instance_for_test, materialize

from datas_core.db import make_session_factory, session_scope
from datas_core.schemas.sites import Heartbeat, SiteCreate
from datas_core.services import sites
from datas_pipelines.definitions import defs, network_schedule
from datas_pipelines.defs.network.assets import site_status, sites_reporting
from datas_pipelines.resources import AppDatabase


def test_definitions_snapshot() -> None:
    repo = defs.get_repository_def()
    assert {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()} == {"site_status"}
    assert network_schedule.cron_schedule == "*/5 * * * *"
    assert {j.name for j in repo.get_all_jobs()} >= {"network_status_job"}


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
