"""The light_curves asset writes Parquet per target partition; the sensor adds partitions and
requests range runs; the quality checks pass or fail on a known zero-point scatter."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from dagster import (
    DagsterInstance,
    SensorResult,
    build_sensor_context,
    instance_for_test,
    materialize,
)

from datas_core.db import make_session_factory, session_scope
from datas_core.db.models import Observation
from datas_core.lightcurves import LightCurveQuery, load_light_curve
from datas_core.schemas.sites import SiteCreate
from datas_core.schemas.targets import TargetCreate
from datas_core.services import sites, targets
from datas_pipelines.defs.lightcurves.assets import light_curves, target_partitions
from datas_pipelines.defs.lightcurves.resources import ObjectStore
from datas_pipelines.defs.lightcurves.sensors import (
    RANGE_END_TAG,
    RANGE_START_TAG,
    light_curves_sensor,
)
from datas_pipelines.resources import AppDatabase

UTC = timezone.utc
NIGHT = datetime(2026, 9, 1, 20, 0, tzinfo=UTC)  # evening at the site below (lon 14.8)
LONG_AGO = datetime(2026, 9, 2, tzinfo=UTC)  # received well before any sensor tick


def add_observations(factory, target_id: int, zero_points: list[float], flagged: int) -> None:
    with session_scope(factory) as session:
        for i, zp in enumerate(zero_points):
            session.add(
                Observation(
                    observation_id=str(uuid.uuid4()),
                    target_id=target_id,
                    site_id="ond",
                    observed_at=NIGHT + timedelta(minutes=10 * i),
                    exposure_sec=60.0,
                    filter="V",
                    magnitude=12.0 + 0.01 * i,
                    mag_error=0.01,
                    zero_point=zp,
                    quality_flags=["high_airmass"] if i < flagged else [],
                    comparison_stars=[],
                    received_at=LONG_AGO,
                )
            )


@pytest.fixture
def world(engine) -> dict:
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        sites.create_site(
            session,
            SiteCreate(site_id="ond", name="Ondrejov", latitude=49.91, longitude=14.78),
        )
        made = targets.create_targets(
            session,
            [TargetCreate(name=f"T{i}", ra_deg=30.0 * i, dec_deg=10.0) for i in range(3)],
        )
        ids = [t.target_id for t in made]
    return {"factory": factory, "ids": ids}


def resources(db_url: str, store_dir: Path) -> dict:
    return {
        "app_db": AppDatabase(database_url=db_url),
        "object_store": ObjectStore(url=str(store_dir)),
    }


def read_parquet(store_dir: Path, target_id: int) -> list[dict]:
    data = (store_dir / "lightcurves" / f"{target_id}.parquet").read_bytes()
    return pq.read_table(io.BytesIO(data)).to_pylist()


def checks_by_name(result) -> dict:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_materialize_one_partition_writes_parquet(world: dict, db_url: str, tmp_path: Path) -> None:
    tid = world["ids"][0]
    add_observations(world["factory"], tid, [21.98, 21.99, 22.0, 22.01, 22.02], flagged=1)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(target_partitions.name, [str(tid)])
        result = materialize(
            [light_curves],
            partition_key=str(tid),
            resources=resources(db_url, tmp_path),
            instance=instance,
        )
    assert result.success
    meta = result.asset_materializations_for_node("light_curves")[0].metadata
    assert (meta["targets"].value, meta["points"].value) == (1, 5)
    written = read_parquet(tmp_path, tid)
    with session_scope(world["factory"]) as session:
        expected = load_light_curve(session, tid, LightCurveQuery()).rows
    assert [r["observation_id"] for r in written] == [r["observation_id"] for r in expected]
    assert [r["bjd_tdb"] for r in written] == [r["bjd_tdb"] for r in expected]
    assert [r["quality_flags"] for r in written][:2] == [["high_airmass"], []]
    # 5 zero points with a robust scatter of 1.4826 x 0.01 mag; 1 of 5 flagged
    checks = checks_by_name(result)
    zp = checks["zero_point_scatter"]
    assert zp.passed is True
    assert zp.metadata["worst_robust_std"].value == pytest.approx(0.014826, abs=1e-6)
    assert "| ond | 2026-09-01 | V | 5 |" in zp.metadata["table"].value
    share = checks["flagged_share"]
    assert share.passed is True and share.metadata["worst_share"].value == pytest.approx(0.2)


def test_checks_fail_on_known_scatter_and_flagged_share(
    world: dict, db_url: str, tmp_path: Path
) -> None:
    tid = world["ids"][1]
    # deviations from the median 0.3, 0.15, 0, 0.15, 0.3: robust std 1.4826 x 0.15 = 0.222 mag
    add_observations(world["factory"], tid, [21.7, 21.85, 22.0, 22.15, 22.3], flagged=2)
    with instance_for_test() as instance:
        instance.add_dynamic_partitions(target_partitions.name, [str(tid)])
        result = materialize(
            [light_curves],
            partition_key=str(tid),
            resources=resources(db_url, tmp_path),
            instance=instance,
        )
    assert result.success  # WARN checks do not fail the run
    checks = checks_by_name(result)
    zp = checks["zero_point_scatter"]
    assert zp.passed is False
    assert zp.metadata["worst_robust_std"].value == pytest.approx(1.4826 * 0.15)
    assert zp.metadata["over_limit"].value == 1 and zp.metadata["limit_mag"].value == 0.1
    share = checks["flagged_share"]
    assert share.passed is False and share.metadata["worst_share"].value == pytest.approx(0.4)


def sensor_tick(instance: DagsterInstance, db_url: str, cursor: str | None) -> SensorResult:
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"app_db": AppDatabase(database_url=db_url)}
    )
    result = light_curves_sensor(context)
    assert isinstance(result, SensorResult)
    return result


def test_sensor_adds_partitions_and_one_run_covers_them(
    world: dict, db_url: str, tmp_path: Path
) -> None:
    ids = world["ids"]
    for tid in ids:
        add_observations(world["factory"], tid, [22.0, 22.0, 22.0], flagged=0)
    with instance_for_test() as instance:
        first = sensor_tick(instance, db_url, None)
        (adds,) = first.dynamic_partitions_requests
        assert adds.partitions_def_name == "targets"
        assert list(adds.partition_keys) == [str(t) for t in ids]
        (run,) = first.run_requests
        assert (run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG]) == (str(ids[0]), str(ids[-1]))
        # what the sensor daemon does with the result: add partitions, launch the run
        instance.add_dynamic_partitions("targets", list(adds.partition_keys))
        result = materialize(
            [light_curves],
            tags=dict(run.tags),
            resources=resources(db_url, tmp_path),
            instance=instance,
        )
        assert result.success
        materialized = {m.partition for m in result.asset_materializations_for_node("light_curves")}
        assert materialized == {str(t) for t in ids}  # one run, three partitions
        for tid in ids:
            assert len(read_parquet(tmp_path, tid)) == 3
        # nothing new: no runs, same cursor; a new observation of one target: one run for it
        idle = sensor_tick(instance, db_url, first.cursor)
        assert idle.run_requests == [] and idle.cursor == first.cursor
        with session_scope(world["factory"]) as session:
            session.add(
                Observation(
                    observation_id=str(uuid.uuid4()),
                    target_id=ids[1],
                    site_id="ond",
                    observed_at=NIGHT + timedelta(days=1),
                    magnitude=12.5,
                    quality_flags=[],
                    comparison_stars=[],
                    received_at=LONG_AGO + timedelta(hours=1),
                )
            )
        again = sensor_tick(instance, db_url, first.cursor)
        assert again.dynamic_partitions_requests == []  # the partition exists already
        (run,) = again.run_requests
        assert (run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG]) == (str(ids[1]), str(ids[1]))
        assert run.run_key != first.run_requests[0].run_key
