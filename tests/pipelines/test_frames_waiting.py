"""The freshness check of frame reductions: quiet days pass, frames waiting with no reduction run
since their upload fail as ERROR, a backlog while reductions run fails as WARN; the sensor
reports the check between runs without launching one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from dagster import (
    AssetCheckSeverity,
    AssetMaterialization,
    build_sensor_context,
    instance_for_test,
)
from sqlalchemy import Engine, update

from datas_core.db import make_session_factory, session_scope
from datas_core.db.models import Frame, Site
from datas_core.settings import get_settings
from datas_pipelines.defs.frames import checks
from datas_pipelines.defs.frames.sensors import frames_waiting_sensor
from datas_pipelines.resources import AppDatabase

NOW = datetime.now(timezone.utc)


@pytest.fixture
def frames_db(engine: Engine, db_url: str, monkeypatch) -> Iterator[Any]:
    monkeypatch.setenv("DATAS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        session.add(Site(site_id="site-a", name="A", latitude=50.0, longitude=15.0))

    def add(minutes_ago: float, status: str = "received", attempts: int = 0) -> str:
        frame_id = str(uuid.uuid4())
        with session_scope(factory) as session:
            session.add(
                Frame(
                    frame_id=frame_id,
                    site_id="site-a",
                    filename="f.fits",
                    storage_key=f"frames/{frame_id}.fits",
                    sha256=frame_id.replace("-", ""),
                    size_bytes=1,
                    status=status,
                    attempts=attempts,
                    uploaded_at=NOW - timedelta(minutes=minutes_ago),
                )
            )
        return frame_id

    add.factory = factory  # type: ignore[attr-defined]
    yield add
    get_settings.cache_clear()


def test_waiting_frames_and_reduction_runs_decide_the_verdict(frames_db, db_url: str) -> None:
    app_db = AppDatabase(database_url=db_url)
    frames_db(600, status="reduced")  # done frames never count
    frames_db(600, status="failed", attempts=3)  # nor frames without tries left
    with instance_for_test() as instance:
        quiet = checks.evaluate(instance, app_db, NOW)
        assert quiet.passed and quiet.metadata["waiting"] == 0
        frames_db(5)
        assert checks.evaluate(instance, app_db, NOW).passed  # recent upload
        late = frames_db(30)
        stuck = checks.evaluate(instance, app_db, NOW)
        assert (stuck.passed, stuck.severity) == (False, AssetCheckSeverity.ERROR)
        assert stuck.metadata["oldest_frame_id"] == late and stuck.metadata["waiting"] == 2
        assert "no reduction has run" in stuck.description
        # a reduction ran after the upload: reductions are keeping up
        instance.report_runless_asset_event(AssetMaterialization("frame_reductions"))
        assert checks.evaluate(instance, app_db, NOW).passed
        # ... but a frame waiting more than an hour means a backlog
        oldest = frames_db(90, status="failed", attempts=1)
        backlog = checks.evaluate(instance, app_db, NOW)
        assert (backlog.passed, backlog.severity) == (False, AssetCheckSeverity.WARN)
        assert backlog.metadata["oldest_frame_id"] == oldest and "Backlog" in backlog.description


def test_sensor_reports_failures_every_tick_and_the_recovery_once(frames_db, db_url: str) -> None:
    resources = {"app_db": AppDatabase(database_url=db_url)}
    frame_id = frames_db(30)
    with instance_for_test() as instance:

        def tick(cursor: str | None) -> Any:
            context = build_sensor_context(instance=instance, resources=resources, cursor=cursor)
            return frames_waiting_sensor(context)

        first = tick(None)
        assert not first.run_requests  # reported, not launched
        (evaluation,) = first.asset_events
        assert evaluation.asset_key.to_user_string() == "frame_reductions"
        assert (evaluation.check_name, evaluation.passed) == ("frames_waiting", False)
        assert evaluation.severity == AssetCheckSeverity.ERROR
        assert first.cursor == "fail:ERROR"
        assert len(tick(first.cursor).asset_events) == 1  # still failing: reported again
        with session_scope(frames_db.factory) as session:
            session.execute(
                update(Frame).where(Frame.frame_id == frame_id).values(status="reduced")
            )
        recovered = tick(first.cursor)
        assert [e.passed for e in recovered.asset_events] == [True]
        assert recovered.cursor == "pass"
        quiet = tick(recovered.cursor)
        assert not quiet.asset_events and quiet.skip_reason
