"""FITS uploads: stored once by content hash, bad files refused, site keys confined."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from typing import Any

import numpy as np
from astropy.io import fits
from fastapi.testclient import TestClient

from datas_api.app import create_app
from tests.api.conftest import Keys, bearer


def _fits(value: int = 1, date: str = "2026-11-22T21:00:00") -> bytes:
    hdu = fits.PrimaryHDU(np.full((16, 16), value, dtype=np.uint16))
    hdu.header["DATE-OBS"] = date
    hdu.header["EXPTIME"] = 30.0
    hdu.header["FILTER"] = "V"
    buffer = io.BytesIO()
    hdu.writeto(buffer)
    return buffer.getvalue()


def _upload(client: TestClient, key: str, data: bytes, site: str = "site-a", name: str = "f.fits"):
    return client.post(
        "/api/v1/frames",
        files={"file": (name, data, "application/fits")},
        data={"site_id": site},
        headers=bearer(key),
    )


def test_upload_is_stored_once_and_readable(client: TestClient, keys: Keys) -> None:
    data = _fits()
    r = _upload(client, keys.site_a, data)
    assert r.status_code == 201, r.text
    frame = r.json()
    assert frame["status"] == "received" and frame["size_bytes"] == len(data)
    assert frame["header"]["FILTER"] == "V" and frame["observed_at"].startswith("2026-11-22T21")
    store = client.app.state.object_store  # type: ignore[attr-defined]
    stored = list((store.root / "frames").rglob("*.fits"))
    assert len(stored) == 1 and stored[0].read_bytes() == data
    again = _upload(client, keys.site_a, data, name="renamed.fits")
    assert again.status_code == 200 and again.json()["frame_id"] == frame["frame_id"]
    assert again.json()["duplicate"] is True
    assert len(list((store.root / "frames").rglob("*.fits"))) == 1
    got = client.get(f"/api/v1/frames/{frame['frame_id']}", headers=bearer(keys.reader))
    assert got.status_code == 200 and got.json()["sha256"] == frame["sha256"]
    gz = _upload(client, keys.site_a, gzip.compress(_fits(2)), name="f.fits.gz")
    assert gz.status_code == 201 and gz.json()["header"]["EXPTIME"] == "30.0"


def test_bad_uploads_are_refused_and_nothing_is_kept(client: TestClient, keys: Keys) -> None:
    store = client.app.state.object_store  # type: ignore[attr-defined]
    for data, words in [
        (b"this is not a FITS file at all" * 200, "not a FITS file"),
        (_fits()[:1000], "not a FITS file"),  # truncated inside the header
        (b"", "not a FITS file"),
    ]:
        r = _upload(client, keys.site_a, data)
        assert r.status_code == 422 and words in r.json()["message"]
    r = _upload(client, keys.site_a, _fits(), site="site-b")
    assert r.status_code == 403
    r = _upload(client, keys.reader, _fits())
    assert r.status_code == 403
    r = _upload(client, keys.admin, _fits(), site="nowhere")
    assert r.status_code == 404
    assert (
        not list((store.root / "frames").rglob("*")) if (store.root / "frames").exists() else True
    )
    assert list((store.root / ".incoming").iterdir()) == []
    missing = client.get("/api/v1/frames/nope", headers=bearer(keys.reader))
    assert missing.status_code == 404


def test_oversized_frames_get_413_and_leave_nothing(
    db_url: str, settings_for: Callable[..., Any], keys_for: Callable[..., Keys]
) -> None:
    app = create_app(settings_for(db_url, max_frame_bytes=20_000))
    with TestClient(app) as c:
        keys = keys_for(c)
        big = _fits() + b"\0" * 30_000
        r = _upload(c, keys.site_a, big)  # refused on Content-Length, before reading
        assert r.status_code == 413 and "DATAS_MAX_FRAME_BYTES" in r.json()["message"]
        app.state.settings.max_frame_bytes = 8_000  # the service's own check while streaming
        r = _upload(c, keys.site_a, _fits() + b"\0" * 10_000)
        assert r.status_code == 413 and "exceeds" in r.json()["message"]
        store = app.state.object_store
        assert list((store.root / ".incoming").iterdir()) == []
