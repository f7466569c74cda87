"""The object store interface: what the upload endpoint, the reduction and the light curves
need from a local directory or an S3 bucket."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Protocol


class StorageError(Exception):
    """The object store cannot be reached or refused an operation; the message says what to fix."""


class ObjectMissing(StorageError, FileNotFoundError):
    """The store answered, but holds no object under that key."""


def check_key(key: str) -> str:
    """Keys are relative, slash-separated and never climb out of the store."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"storage key {key!r} is not a plain relative path")
    return key


class Store(Protocol):
    """Every method raises StorageError (with what to fix) when the store itself is unusable,
    ObjectMissing when a read names a key that holds nothing, ValueError for a bad key."""

    def incoming(self) -> tuple[IO[bytes], Path]:
        """A local temporary file (open for writing, and its path) to stream an upload into."""
        ...

    def commit(self, temp: Path, key: str) -> None:
        """Store the temporary file under `key` (replacing what was there); the temp is consumed."""
        ...

    def exists(self, key: str) -> bool: ...

    def open_read(self, key: str) -> IO[bytes]:
        """A binary stream of the object; the caller closes it."""
        ...

    def fetch(self, key: str) -> AbstractContextManager[Path]:
        """A readable local file with the object's bytes, valid inside the `with` block."""
        ...

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def get_bytes(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""
        ...

    def check(self) -> None:
        """Raise StorageError saying what to fix when the store cannot be used (startup check)."""
        ...

    def describe(self) -> str:
        """Where objects go, for logs and health: `local:/path` or `s3://bucket/prefix`."""
        ...
