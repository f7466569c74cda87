"""A frame leads to the Dagster run that reduced it, and the run to its frames: the sensor's run
carries the batch's tags (how many frames, first and last frame id), each frame's `results`
records the run id, and a run launched by hand (no sensor, no tags) is tagged by the asset."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from dagster import DagsterInstance, build_sensor_context, instance_for_test
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from datas_core.db import make_session_factory, session_scope
from datas_core.db.models import Frame
from datas_core.schemas.sites import SiteCreate
from datas_core.schemas.targets import TargetCreate
from datas_core.science import synthetic
from datas_core.science.frame_io import fits_bytes
from datas_core.services import frames, sites, targets
from datas_core.settings import get_settings
from datas_core.storage import store_from_settings
from datas_pipelines.definitions import defs
from datas_pipelines.defs.frames.sensors import pending_frames_sensor
from datas_pipelines.resources import AppDatabase
from tests.science.framekit import frame_header, render_field

CAMERA = synthetic.Camera(width=512, height=512)
RA, DEC = 120.0, 20.0
SIM = {"INSTRUME": "DATAS simulator"}


@pytest.fixture
def env(db_url: str, engine: Engine, tmp_path, monkeypatch) -> Iterator[_Env]:
    monkeypatch.setenv("DATAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DATAS_DATABASE_URL", db_url)
    get_settings.cache_clear()
    resources = {"app_db": AppDatabase(database_url=db_url)}
    with instance_for_test() as instance:
        yield _Env(make_session_factory(engine), resources, instance)
    get_settings.cache_clear()


class _Env:
    def __init__(
        self, factory: sessionmaker[Session], resources: dict[str, Any], instance: DagsterInstance
    ) -> None:
        self.factory, self.resources, self.instance = factory, resources, instance
        self.store = store_from_settings(get_settings())
        stars = synthetic.sky_catalog(RA, DEC, 0.1)
        x, y = synthetic.sky_to_pixel(
            synthetic.wcs_header(CAMERA, RA, DEC), stars.ra_deg, stars.dec_deg
        )
        inner = (x > 60) & (x < 450) & (y > 60) & (y < 450) & (stars.mag > 12) & (stars.mag < 14)
        star = int(np.flatnonzero(inner)[0])
        with session_scope(self.factory) as session:
            sites.create_site(
                session, SiteCreate(site_id="site-a", name="A", latitude=30.0, longitude=-110.0)
            )
            made = targets.create_targets(
                session,
                [
                    TargetCreate(
                        name="T1",
                        ra_deg=float(stars.ra_deg[star]),
                        dec_deg=float(stars.dec_deg[star]),
                    )
                ],
            )
            session.flush()
            self.target_id = made[0].target_id

    def upload(self, name: str, image: np.ndarray) -> str:
        data = fits_bytes(image, frame_header(CAMERA, RA, DEC, seconds=30.0, **SIM))
        with session_scope(self.factory) as session:
            frame, _ = frames.ingest_frame(
                session,
                self.store,
                site_id="site-a",
                filename=f"{name}.fits",
                source=io.BytesIO(data),
                max_bytes=64 * 1024 * 1024,
                target_id=self.target_id,
            )
            return frame.frame_id

    def results(self, frame_id: str) -> tuple[str, dict[str, Any]]:
        with session_scope(self.factory) as session:
            frame = session.get(Frame, frame_id)
            assert frame is not None
            return frame.status, dict(frame.results or {})


def test_sensor_run_carries_batch_tags_and_frames_record_their_run(env: _Env) -> None:
    good, _ = render_field(CAMERA, RA, DEC, seed=11)
    empty = np.full((64, 64), 100.0, dtype=np.float32)  # no stars: rejected at once
    ids = [env.upload("good", good), env.upload("empty", empty)]

    result = pending_frames_sensor(
        build_sensor_context(instance=env.instance, resources=env.resources)
    )
    (request,) = result.run_requests
    batch = request.run_config["ops"]["frame_reductions"]["config"]["frame_ids"]
    assert sorted(batch) == sorted(ids)
    assert request.tags == {
        "datas/frames": "2",
        "datas/first_frame": batch[0],
        "datas/last_frame": batch[-1],
    }

    run = defs.resolve_job_def("frame_reduction_job").execute_in_process(
        run_config=request.run_config,
        tags=request.tags,
        instance=env.instance,
        resources=env.resources,
    )
    assert run.success
    stored = env.instance.get_run_by_id(run.run_id)
    assert stored is not None and dict(stored.tags).items() >= request.tags.items()
    # frame -> run: each frame's results name the run that reduced (or rejected) it
    status, results = env.results(ids[0])
    assert status == "reduced" and results["run_id"] == run.run_id
    assert results["observation_id"]
    status, results = env.results(ids[1])
    assert status == "rejected" and results["run_id"] == run.run_id
    # run -> frames: the frames a run reduced are found by its tags
    runs = env.instance.get_runs()
    assert [r.run_id for r in runs if r.tags.get("datas/first_frame") == batch[0]] == [run.run_id]
    # the reductions' freshness check ran in the same run, and nothing is left waiting
    (waiting,) = [e for e in run.get_asset_check_evaluations() if e.check_name == "frames_waiting"]
    assert waiting.passed and waiting.metadata["waiting"].value == 0


def test_a_run_launched_by_hand_is_tagged_by_the_asset(env: _Env) -> None:
    frame_id = env.upload("empty", np.full((64, 64), 100.0, dtype=np.float32))
    run = defs.resolve_job_def("frame_reduction_job").execute_in_process(
        instance=env.instance, resources=env.resources
    )
    assert run.success
    stored = env.instance.get_run_by_id(run.run_id)
    assert stored is not None
    assert {k: v for k, v in stored.tags.items() if k.startswith("datas/")} == {
        "datas/frames": "1",
        "datas/first_frame": frame_id,
        "datas/last_frame": frame_id,
    }
    assert env.results(frame_id) == ("rejected", {"rejected": "empty", "run_id": run.run_id})
