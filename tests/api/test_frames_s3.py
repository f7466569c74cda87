"""FITS uploads through the real API into S3 (moto's S3 server on 127.0.0.1) when
DATAS_STORAGE_URL=s3://bucket/prefix: stored once by content hash, and a store that cannot be
used answered with 503 and what to fix, without recording anything."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from datas_api.app import create_app
from datas_core.db.models import Frame
from tests.api.conftest import Keys
from tests.api.test_frames import _fits, _upload
from tests.moto_s3 import S3Bucket

PREFIX = "datas/frames-test"


def _frame_rows(app: Any) -> int:
    with app.state.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Frame)) or 0)


def _storage_key(app: Any, frame_id: str) -> str:
    with app.state.session_factory() as session:
        frame = session.get(Frame, frame_id)
        assert frame is not None
        return str(frame.storage_key)


def _spool(tmp_path: Path) -> list[Path]:
    spool = tmp_path / "home" / "spool"
    return list(spool.rglob("*")) if spool.exists() else []


def _s3_env(monkeypatch: pytest.MonkeyPatch, endpoint: str, bucket: str) -> None:
    monkeypatch.setenv("DATAS_STORAGE_URL", f"s3://{bucket}/{PREFIX}")
    monkeypatch.setenv("DATAS_S3_ENDPOINT_URL", endpoint)


def test_frames_go_to_the_bucket_once(
    db_url: str,
    settings_for: Callable[..., Any],
    keys_for: Callable[..., Keys],
    s3_bucket: S3Bucket,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _s3_env(monkeypatch, s3_bucket.endpoint, s3_bucket.name)
    app = create_app(settings_for(db_url))
    with TestClient(app) as client:
        keys = keys_for(client)
        assert client.get("/healthz").json()["storage"] == "s3"  # the bucket is not shown
        data = _fits(7)
        r = _upload(client, keys.site_a, data)
        assert r.status_code == 201, r.text
        frame = r.json()
        sha = hashlib.sha256(data).hexdigest()
        assert frame["sha256"] == sha and frame["size_bytes"] == len(data)
        # The object is in the bucket, under the prefix, at the frame's key, byte for byte.
        stored = s3_bucket.keys()
        assert stored == [f"{PREFIX}/{_storage_key(app, frame['frame_id'])}"]
        assert stored[0].endswith(f"{sha}.fits")
        assert hashlib.sha256(s3_bucket.read(stored[0])).hexdigest() == sha
        # The same bytes again (another name): recognised, not stored twice.
        again = _upload(client, keys.site_a, data, name="renamed.fits")
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert again.json()["frame_id"] == frame["frame_id"]
        assert s3_bucket.keys() == stored
        assert _frame_rows(app) == 1
        # A different frame is a second object; the reduction reads it back through fetch().
        other = _upload(client, keys.site_a, _fits(8))
        assert other.status_code == 201
        assert len(s3_bucket.keys()) == 2
        with app.state.object_store.fetch(_storage_key(app, other.json()["frame_id"])) as path:
            assert hashlib.sha256(path.read_bytes()).hexdigest() == other.json()["sha256"]
        assert _spool(tmp_path) == []  # upload and download spool files are all gone


def test_a_missing_bucket_is_answered_clearly_and_nothing_is_recorded(
    db_url: str,
    settings_for: Callable[..., Any],
    keys_for: Callable[..., Keys],
    s3_bucket: S3Bucket,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    missing = f"{s3_bucket.name}-not-created"
    _s3_env(monkeypatch, s3_bucket.endpoint, missing)
    app = create_app(settings_for(db_url))
    with caplog.at_level(logging.ERROR, logger="datas.api"), TestClient(app) as client:
        # The server starts anyway, and says at startup what is wrong.
        assert any(missing in m and "create it" in m for m in caplog.messages), caplog.messages
        keys = keys_for(client)
        data = _fits(9)
        r = _upload(client, keys.site_a, data)
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["error"] == "storage_unavailable"
        assert f"bucket {missing!r} does not exist" in body["message"]
        assert "create it" in body["message"] and "DATAS_STORAGE_URL" in body["message"]
        assert r.headers["Retry-After"]
        assert _frame_rows(app) == 0  # no frames row for a file that was not stored
        assert _spool(tmp_path) == []
        # Once the operator creates the bucket the same upload goes through, no restart needed.
        s3_bucket.client.create_bucket(Bucket=missing)
        r = _upload(client, keys.site_a, data)
        assert r.status_code == 201, r.text
        assert _frame_rows(app) == 1
        listed = s3_bucket.client.list_objects_v2(Bucket=missing)["Contents"]
        assert [o["Key"] for o in listed] == [f"{PREFIX}/{_storage_key(app, r.json()['frame_id'])}"]


def test_missing_credentials_are_answered_clearly(
    db_url: str,
    settings_for: Callable[..., Any],
    keys_for: Callable[..., Keys],
    s3_bucket: S3Bucket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _s3_env(monkeypatch, s3_bucket.endpoint, s3_bucket.name)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    app = create_app(settings_for(db_url))
    with TestClient(app) as client:
        keys = keys_for(client)
        r = _upload(client, keys.site_a, _fits(10))
        assert r.status_code == 503
        assert "AWS_ACCESS_KEY_ID" in r.json()["message"]
        assert _frame_rows(app) == 0
    assert s3_bucket.keys() == []
