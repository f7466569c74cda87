"""The object store interface: what the upload endpoint, the reduction and the light curves
need from a local directory or an S3 bucket."""

from __future__ import annotations

import shutil
import time
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import IO, Protocol

# A partial upload untouched this long was left by a crash (a live upload keeps writing).
ABANDONED_AFTER_SECONDS = 3600.0


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

    def clean_incoming(self, older_than_seconds: float = ABANDONED_AFTER_SECONDS) -> int:
        """Remove temporary upload files left by a crash; returns how many were removed."""
        ...


def remove_abandoned(folder: Path, pattern: str, older_than_seconds: float) -> int:
    """Delete files or folders matching `pattern` in `folder` not modified for a while."""
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than_seconds
    removed = 0
    for entry in folder.glob(pattern):
        with suppress(OSError):  # vanished meanwhile, or not ours to remove: leave it
            if entry.stat().st_mtime >= cutoff:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
    return removed
