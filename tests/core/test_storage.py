"""The object store: the same behaviour from a local directory and from S3 (moto's S3 server on
127.0.0.1, reached over HTTP by boto3), and clear errors when S3 cannot be used."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from datas_core.settings import Settings
from datas_core.storage import LocalStore, ObjectMissing, StorageError, Store, open_store
from datas_core.storage.s3 import S3Store
from tests.moto_s3 import S3Bucket, free_port, moto_server, new_bucket

PREFIX = "archive/v1"


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "local":
        return LocalStore(tmp_path / "objects")
    bucket: S3Bucket = request.getfixturevalue("s3_bucket")
    return S3Store(bucket.name, PREFIX, endpoint_url=bucket.endpoint, spool_dir=tmp_path / "spool")


def _write_incoming(store: Store, data: bytes) -> Path:
    handle, temp = store.incoming()
    with handle:
        for start in range(0, len(data), 1 << 20):
            handle.write(data[start : start + (1 << 20)])
    return temp


def test_bytes_round_trip_exists_and_delete(store: Store) -> None:
    key = "lightcurves/42.parquet"
    assert not store.exists(key)
    store.put_bytes(key, b"first")
    store.put_bytes(key, b"second version")  # replaced, never appended
    assert store.exists(key)
    assert store.get_bytes(key) == b"second version"
    with store.open_read(key) as handle:
        assert handle.read(6) == b"second" and handle.read() == b" version"
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting what is gone is not an error


def test_commit_streams_a_large_upload_and_consumes_the_temp(
    store: Store, request: pytest.FixtureRequest
) -> None:
    # 9 MiB + a bit: above boto3's 8 MiB multipart threshold, so S3 gets a multipart upload.
    data = os.urandom(9 * 1024 * 1024 + 123)
    temp = _write_incoming(store, data)
    assert temp.is_file() and temp.stat().st_size == len(data)
    key = "frames/site-a/2026/11/22/abc.fits"
    store.commit(temp, key)
    assert not temp.exists()
    assert store.exists(key)
    assert hashlib.sha256(store.get_bytes(key)).digest() == hashlib.sha256(data).digest()
    if isinstance(store, S3Store):
        s3: S3Bucket = request.getfixturevalue("s3_bucket")  # the same bucket as the store's
        assert s3.keys() == [f"{PREFIX}/{key}"]  # under the prefix, nothing else
        etag = s3.client.head_object(Bucket=s3.name, Key=f"{PREFIX}/{key}")["ETag"]
        assert etag.strip('"').endswith("-2"), etag  # two parts: boto3's managed multipart


def test_fetch_gives_a_readable_local_copy(store: Store, tmp_path: Path) -> None:
    key = "frames/site-a/2026/11/22/def.fits.gz"
    store.put_bytes(key, b"\x1f\x8bgzipped frame")
    with store.fetch(key) as path:
        assert path.is_file() and path.name.endswith(".fits.gz")  # readers may go by suffix
        assert path.read_bytes() == b"\x1f\x8bgzipped frame"
    if isinstance(store, LocalStore):
        assert path == store.path(key) and path.exists()  # the stored file itself
    else:
        assert not path.exists()  # the download is removed afterwards
        assert list((tmp_path / "spool").iterdir()) == []


def test_missing_objects_are_told_apart_from_a_broken_store(store: Store) -> None:
    key = "frames/nothing-here.fits"
    assert store.exists(key) is False
    with pytest.raises(ObjectMissing, match="nothing-here"):
        store.get_bytes(key)
    with pytest.raises(FileNotFoundError):  # ObjectMissing is both
        store.open_read(key)
    with pytest.raises(ObjectMissing), store.fetch(key):
        pass


@pytest.mark.parametrize(
    "key", ["../escape", "frames/../../escape", "/etc/passwd", "a//b", "a/./b", "", "a\\..\\b"]
)
def test_keys_that_leave_the_store_are_refused(store: Store, key: str) -> None:
    with pytest.raises(ValueError, match=r"not a plain relative path|leaves the store"):
        store.put_bytes(key, b"x")
    for read in (store.exists, store.get_bytes, store.delete):
        with pytest.raises(ValueError):
            read(key)
    temp = _write_incoming(store, b"data")
    try:
        with pytest.raises(ValueError):
            store.commit(temp, key)
    finally:
        temp.unlink(missing_ok=True)


def test_check_and_describe(store: Store, tmp_path: Path) -> None:
    store.check()
    if isinstance(store, LocalStore):
        assert store.describe() == f"local:{(tmp_path / 'objects').resolve()}"
    else:
        assert isinstance(store, S3Store)
        assert store.describe() == f"s3://{store.bucket}/{PREFIX}"


def test_open_store_chooses_the_backend_from_the_url(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path / "home", s3_endpoint_url="http://127.0.0.1:9", s3_region="eu-west-1"
    )
    s3 = open_store("s3://frames-bucket/site/archive/", settings)
    assert isinstance(s3, S3Store)
    assert s3.describe() == "s3://frames-bucket/site/archive"
    assert s3.endpoint_url == "http://127.0.0.1:9" and s3.region == "eu-west-1"
    assert s3.spool_dir == settings.home_dir / "spool"
    assert open_store("s3://just-a-bucket", settings).describe() == "s3://just-a-bucket"
    for local in (tmp_path / "objects", str(tmp_path / "objects"), f"file://{tmp_path}/objects"):
        made = open_store(local, settings)
        assert isinstance(made, LocalStore)
        assert made.describe() == f"local:{(tmp_path / 'objects').resolve()}"
    from datas_core.storage import store_from_settings

    default = store_from_settings(settings)  # no DATAS_STORAGE_URL: the directory as before
    assert default.describe() == f"local:{settings.home_dir / 'objects'}"


def test_settings_refuse_s3_urls_that_cannot_work(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="names no bucket"):
        Settings(home=tmp_path, storage_url="s3:///prefix-only")
    with pytest.raises(ValidationError, match="not a plain relative path"):
        Settings(home=tmp_path, storage_url="s3://bucket/a/../b")
    with pytest.raises(ValidationError, match=r"http\(s\)://host:port"):
        Settings(home=tmp_path, s3_endpoint_url="minio:9000")
    blank = Settings(home=tmp_path, storage_url="", s3_endpoint_url=" ")
    assert blank.storage_url is None and blank.s3_endpoint_url is None


# -- S3 that cannot be used: every failure says what to fix --------------------------------------


def _s3(endpoint: str, bucket: str, tmp_path: Path) -> S3Store:
    return S3Store(bucket, "p", endpoint_url=endpoint, spool_dir=tmp_path / "spool")


def test_missing_bucket_is_named_with_the_fix(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    store = _s3(s3_bucket.endpoint, "no-such-bucket", tmp_path)
    advice = r"bucket 'no-such-bucket' does not exist .*create it .*DATAS_STORAGE_URL"
    with pytest.raises(StorageError, match=advice):
        store.check()
    temp = _write_incoming(store, b"SIMPLE  = T")
    with pytest.raises(StorageError, match=advice):
        store.commit(temp, "frames/a.fits")
    assert not temp.exists()  # the spool file does not pile up
    for attempt in (
        lambda: store.exists("frames/a.fits"),  # a 404 on the bucket is not "no such key"
        lambda: store.get_bytes("frames/a.fits"),
        lambda: store.put_bytes("frames/a.fits", b"x"),
    ):
        with pytest.raises(StorageError, match=advice) as info:
            attempt()
        assert not isinstance(info.value, ObjectMissing)


def test_missing_credentials_are_named(
    s3_bucket: S3Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    store = _s3(s3_bucket.endpoint, s3_bucket.name, tmp_path)
    with pytest.raises(StorageError, match=r"no AWS credentials.*AWS_ACCESS_KEY_ID"):
        store.check()
    with pytest.raises(StorageError, match="no AWS credentials"):
        store.put_bytes("k", b"x")


def test_wrong_credentials_are_named(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    # A second moto server that checks every request against its (empty) IAM user list.
    with moto_server(INITIAL_NO_AUTH_ACTION_COUNT="0") as strict:
        store = _s3(strict, "any-bucket", tmp_path)
        with pytest.raises(StorageError, match=r"refused the credentials.*AWS_ACCESS_KEY_ID"):
            store.check()
        temp = _write_incoming(store, b"frame")
        with pytest.raises(StorageError, match="InvalidAccessKeyId"):
            store.commit(temp, "frames/a.fits")
        assert not temp.exists()


def test_unreachable_endpoint_is_named(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    store = _s3(f"http://127.0.0.1:{free_port()}", s3_bucket.name, tmp_path)
    with pytest.raises(StorageError, match=r"unreachable.*DATAS_S3_ENDPOINT_URL"):
        store.check()


def test_stores_are_independent_per_bucket(s3_bucket: S3Bucket, tmp_path: Path) -> None:
    other = new_bucket(s3_bucket.endpoint)
    a = _s3(s3_bucket.endpoint, s3_bucket.name, tmp_path)
    b = S3Store(other.name, "", endpoint_url=other.endpoint, spool_dir=tmp_path / "spool")
    a.put_bytes("same/key", b"A")
    b.put_bytes("same/key", b"B")
    assert (a.get_bytes("same/key"), b.get_bytes("same/key")) == (b"A", b"B")
    assert s3_bucket.keys() == ["p/same/key"] and other.keys() == ["same/key"]
    assert b.describe() == f"s3://{other.name}"
