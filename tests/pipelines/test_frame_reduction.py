"""Uploaded frames through the pending-frames sensor and one batched reduction run: good
frames become observations, bad ones get their reason, a failing one does not stop the batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from dagster import build_sensor_context, instance_for_test
from fastapi.testclient import TestClient

from datas_api.app import create_app
from datas_core.db import session_scope
from datas_core.db.models import Frame, Observation
from datas_core.schemas.targets import TargetCreate
from datas_core.science import synthetic
from datas_core.science.frame_io import fits_bytes
from datas_core.services import targets
from datas_core.settings import get_settings
from datas_pipelines.definitions import defs
from datas_pipelines.defs.frames.sensors import pending_frames_sensor
from datas_pipelines.resources import AppDatabase
from tests.api.conftest import Keys, bearer, make_keys
from tests.science.framekit import frame_header, render_field

CAMERA = synthetic.Camera(width=512, height=512)
RA, DEC = 120.0, 20.0


@pytest.fixture
def pipeline_env(db_url: str, settings_for: Callable[..., Any], monkeypatch):
    settings = settings_for(db_url, max_body_bytes=64 * 1024 * 1024)
    monkeypatch.setenv("DATAS_HOME", str(settings.home_dir))
    monkeypatch.setenv("DATAS_DATABASE_URL", db_url)
    monkeypatch.setenv("DATAS_REDUCTION_BATCH_SIZE", "10")
    get_settings.cache_clear()
    app = create_app(settings)
    with TestClient(app) as client:
        yield client, make_keys(client)
    get_settings.cache_clear()


def test_sensor_claims_a_batch_and_one_run_reduces_it(pipeline_env, db_url: str) -> None:
    client, keys = pipeline_env
    keys: Keys
    stars = synthetic.sky_catalog(RA, DEC, 0.1)
    x, y = synthetic.sky_to_pixel(
        synthetic.wcs_header(CAMERA, RA, DEC), stars.ra_deg, stars.dec_deg
    )
    inner = (x > 60) & (x < 450) & (y > 60) & (y < 450) & (stars.mag > 12) & (stars.mag < 14)
    star = int(np.flatnonzero(inner)[0])
    factory = client.app.state.session_factory
    with session_scope(factory) as session:
        made = targets.create_targets(
            session,
            [
                TargetCreate(
                    name="T1", ra_deg=float(stars.ra_deg[star]), dec_deg=float(stars.dec_deg[star])
                )
            ],
        )
        session.flush()
        target_id = made[0].target_id
    sim = {"INSTRUME": "DATAS simulator"}
    good, _ = render_field(CAMERA, RA, DEC, seed=11)
    empty = synthetic.render(
        CAMERA,
        synthetic.wcs_header(CAMERA, RA, DEC),
        synthetic.Stars(np.zeros(0), np.zeros(0), np.zeros(0)),
        30.0,
    )
    elsewhere, _ = render_field(CAMERA, RA + 3, DEC, seed=12)
    uploads = {
        "good": (good, frame_header(CAMERA, RA, DEC, seconds=30.0, **sim)),
        "empty": (empty, frame_header(CAMERA, RA, DEC, seconds=30.0, **sim)),
        "elsewhere": (elsewhere, frame_header(CAMERA, RA + 3, DEC, seconds=30.0, **sim)),
        "vanished": (good + 1, frame_header(CAMERA, RA, DEC, seconds=30.0, **sim)),
    }
    ids = {}
    for name, (image, header) in uploads.items():
        r = client.post(
            "/api/v1/frames",
            files={"file": (f"{name}.fits", fits_bytes(image, header), "application/fits")},
            data={"site_id": "site-a", "target_id": str(target_id)},
            headers=bearer(keys.site_a),
        )
        assert r.status_code == 201, r.text
        ids[name] = r.json()["frame_id"]
    store = client.app.state.object_store
    with session_scope(factory) as session:
        store.delete(session.get(Frame, ids["vanished"]).storage_key)  # lost from the store

    resources = {"app_db": AppDatabase(database_url=db_url)}
    with instance_for_test() as instance:
        context = build_sensor_context(instance=instance, resources=resources)
        result = pending_frames_sensor(context)
        assert len(result.run_requests) == 1
        request = result.run_requests[0]
        assert sorted(
            request.run_config["ops"]["frame_reductions"]["config"]["frame_ids"]
        ) == sorted(ids.values())
        again = pending_frames_sensor(
            build_sensor_context(instance=instance, resources=resources, cursor=result.cursor)
        )
        assert not getattr(again, "run_requests", None)  # claimed frames are not offered twice
        job = defs.resolve_job_def("frame_reduction_job")
        run = job.execute_in_process(
            run_config=request.run_config, instance=instance, resources=resources
        )
        assert run.success
        meta = run.asset_materializations_for_node("frame_reductions")[0].metadata
        assert (meta["reduced"].value, meta["rejected"].value, meta["failed"].value) == (1, 2, 1)

    def frame(name: str) -> dict:
        r = client.get(f"/api/v1/frames/{ids[name]}", headers=bearer(keys.reader))
        assert r.status_code == 200
        return r.json()

    reduced = frame("good")
    assert reduced["status"] == "reduced" and reduced["results"]["wcs"]["rms_arcsec"] < 0.5
    assert frame("empty")["status"] == "rejected" and frame("empty")["error"].startswith("no_stars")
    assert (
        frame("elsewhere")["status"] == "rejected"
        and "does not contain the target" in frame("elsewhere")["error"]
    )
    vanished = frame("vanished")
    assert vanished["status"] == "failed" and vanished["attempts"] == 1
    with session_scope(factory) as session:
        obs = session.get(Observation, reduced["results"]["observation_id"])
        assert obs is not None and obs.frame_id == ids["good"] and obs.method == "pipeline-aperture"
        assert abs(obs.magnitude - stars.mag[star]) < 5 * obs.mag_error + 0.01
        assert obs.reference_catalog == "synthetic@1" and obs.pipeline_version.startswith("datas-")
    # the failed frame is offered again (tries left); the others are done
    with instance_for_test() as instance:
        retry = pending_frames_sensor(build_sensor_context(instance=instance, resources=resources))
        assert [
            r.run_config["ops"]["frame_reductions"]["config"]["frame_ids"]
            for r in retry.run_requests
        ] == [[ids["vanished"]]]
