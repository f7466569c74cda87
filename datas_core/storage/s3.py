"""The S3 object store: AWS S3 or an S3-compatible service (MinIO, Ceph, Garage, moto).

Credentials come from the usual AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
~/.aws, an instance or pod role). Nothing touches the network until the first operation, so a
missing bucket or wrong credentials never stop a process from starting: `check()` and every
operation raise StorageError naming what to fix."""

from __future__ import annotations

import io
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import Boto3Error, S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import ConnectionError as Unreachable

from datas_core.storage.base import (
    ABANDONED_AFTER_SECONDS,
    ObjectMissing,
    StorageError,
    check_key,
    remove_abandoned,
)

T = TypeVar("T")

# Error codes S3 and compatible services answer when the credentials or the policy are wrong.
REFUSED = {
    "AccessDenied",
    "AllAccessDisabled",
    "ExpiredToken",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "InvalidToken",
    "SignatureDoesNotMatch",
    "TokenRefreshRequired",
}
MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Store:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        spool_dir: Path | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 store needs a bucket: s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = "/".join(p for p in prefix.split("/") if p)
        if self.prefix:
            check_key(self.prefix)
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self.spool_dir = (spool_dir or Path(tempfile.gettempdir()) / "datas-spool").expanduser()
        self._client: Any = None
        self._lock = threading.Lock()
        self._transfer = TransferConfig()  # multipart above 8 MiB, parts uploaded in parallel

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        spool_dir: Path | None = None,
    ) -> S3Store:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"{url!r} is not an S3 URL like s3://bucket/prefix")
        return cls(
            parts.netloc,
            parts.path,
            endpoint_url=endpoint_url,
            region=region,
            spool_dir=spool_dir,
        )

    # -- the Store interface -------------------------------------------------------------------

    def incoming(self) -> tuple[IO[bytes], Path]:
        """A spool file on local disk; commit() uploads it."""
        try:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.spool_dir, prefix="upload-")
        except OSError as exc:
            raise StorageError(
                f"cannot write the upload spool directory {self.spool_dir} ({exc.strerror or exc})"
                "; fix its permissions or free space (it is under DATAS_HOME)"
            ) from exc
        return open(fd, "wb"), Path(name)  # the caller closes it

    def commit(self, temp: Path, key: str) -> None:
        """Upload with boto3's managed transfer (multipart for large files); the temp is removed."""
        try:
            name = self._name(key)
            self._call(
                "upload",
                key,
                lambda c: c.upload_file(str(temp), self.bucket, name, Config=self._transfer),
            )
        finally:
            temp.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            self._call("look up", key, lambda c: c.head_object(Bucket=self.bucket, Key=name))
        except ObjectMissing:
            return False
        return True

    def open_read(self, key: str) -> IO[bytes]:
        name = self._name(key)
        answer = self._call("read", key, lambda c: c.get_object(Bucket=self.bucket, Key=name))
        return io.BufferedReader(_Body(answer["Body"], self, key), buffer_size=1024 * 1024)

    @contextmanager
    def fetch(self, key: str) -> Iterator[Path]:
        """Download to a spool file named like the object (suffixes kept), removed afterwards."""
        name = self._name(key)
        try:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(dir=self.spool_dir, prefix="fetch-"))
        except OSError as exc:
            raise StorageError(
                f"cannot write the spool directory {self.spool_dir} ({exc.strerror or exc}); "
                "fix its permissions or free space"
            ) from exc
        try:
            local = folder / PurePosixPath(name).name
            self._call(
                "download",
                key,
                lambda c: c.download_file(self.bucket, name, str(local), Config=self._transfer),
            )
            yield local
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def put_bytes(self, key: str, data: bytes) -> None:
        name = self._name(key)
        self._call("write", key, lambda c: c.put_object(Bucket=self.bucket, Key=name, Body=data))

    def get_bytes(self, key: str) -> bytes:
        with self.open_read(key) as handle:
            return handle.read()

    def delete(self, key: str) -> None:
        name = self._name(key)
        self._call("delete", key, lambda c: c.delete_object(Bucket=self.bucket, Key=name))

    def check(self) -> None:
        self._call("open", None, lambda c: c.head_bucket(Bucket=self.bucket))

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def clean_incoming(self, older_than_seconds: float = ABANDONED_AFTER_SECONDS) -> int:
        return remove_abandoned(self.spool_dir, "upload-*", older_than_seconds) + remove_abandoned(
            self.spool_dir, "fetch-*", older_than_seconds
        )

    # -- plumbing ------------------------------------------------------------------------------

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def client(self) -> Any:
        """The boto3 client, made on first use (boto3 clients are thread-safe, sessions not)."""
        with self._lock:
            if self._client is None:
                custom = self.endpoint_url is not None
                config = Config(
                    connect_timeout=5,
                    read_timeout=60,
                    retries={"max_attempts": 3, "mode": "standard"},
                    # S3-compatible services answer on one host name (no bucket.host DNS) and
                    # many refuse the checksums AWS added in 2025 unless asked for.
                    s3={"addressing_style": "path"} if custom else None,
                    request_checksum_calculation="when_required" if custom else "when_supported",
                    response_checksum_validation="when_required" if custom else "when_supported",
                )
                try:
                    self._client = boto3.session.Session().client(
                        "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=config
                    )
                except (ValueError, BotoCoreError) as exc:
                    raise StorageError(
                        f"cannot set up the S3 client for {self.describe()}: {exc}; check "
                        "DATAS_S3_ENDPOINT_URL (a full URL such as http://minio:9000), "
                        "DATAS_S3_REGION and AWS_PROFILE"
                    ) from exc
            return self._client

    def _call(self, action: str, key: str | None, operation: Callable[[Any], T]) -> T:
        client = self.client()
        try:
            return operation(client)
        except (BotoCoreError, ClientError, Boto3Error) as exc:
            raise self._explain(exc, action, key) from exc

    def _where(self) -> str:
        return self.describe() + (f" (endpoint {self.endpoint_url})" if self.endpoint_url else "")

    def _explain(self, exc: Exception, action: str, key: str | None) -> StorageError:
        if isinstance(exc, S3UploadFailedError):  # boto3 wraps the real cause
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, (BotoCoreError, ClientError)):
                exc = cause
        what = f"object {key!r}" if key else "the bucket"
        if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
            return StorageError(
                f"cannot {action} {what} in {self._where()}: no AWS credentials were found; set "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or give the "
                "machine a role) for the DATAS processes"
            )
        if isinstance(exc, Unreachable):
            return StorageError(
                f"cannot {action} {what} in {self._where()}: the S3 endpoint is unreachable "
                f"({exc}); check DATAS_S3_ENDPOINT_URL and that the service is running"
            )
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "NoSuchBucket" or (code in MISSING and key is None):
                return self._no_bucket(action, what)
            if code in MISSING:
                if not self._bucket_exists():
                    return self._no_bucket(action, what)
                return ObjectMissing(f"object {key!r} is missing from {self._where()}")
            if code in REFUSED or status == 403:
                return StorageError(
                    f"cannot {action} {what} in {self._where()}: S3 refused the credentials "
                    f"({code or status}: {error.get('Message') or 'forbidden'}); check "
                    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and that they may "
                    f"list, read, write and delete in bucket {self.bucket!r}"
                )
            return StorageError(
                f"cannot {action} {what} in {self._where()}: S3 answered {code or status}: "
                f"{error.get('Message') or exc}"
            )
        return StorageError(f"cannot {action} {what} in {self._where()}: {exc}")

    def _no_bucket(self, action: str, what: str) -> StorageError:
        return StorageError(
            f"cannot {action} {what}: bucket {self.bucket!r} does not exist at "
            f"{self.endpoint_url or 'AWS S3'}; create it (e.g. `aws s3 mb s3://{self.bucket}`) "
            "or fix DATAS_STORAGE_URL"
        )

    def _bucket_exists(self) -> bool:
        """Tells a missing key from a missing bucket (HEAD answers a bare 404 for both)."""
        try:
            self.client().head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            return code not in MISSING and code != "NoSuchBucket"
        except (BotoCoreError, Boto3Error):
            return True  # the original error stands
        return True


class _Body(io.RawIOBase):
    """A botocore streaming body as a raw binary stream, read errors told as StorageError."""

    def __init__(self, body: Any, store: S3Store, key: str) -> None:
        self._body = body
        self._store = store
        self._key = key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._body.read(len(view))
        except (BotoCoreError, ClientError) as exc:
            raise self._store._explain(exc, "read", self._key) from exc
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()
