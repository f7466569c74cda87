"""The object store interface: what the upload endpoint, the reduction and the light curves
need from a local directory or an S3 bucket."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Protocol


class StorageError(Exception):
    """The object store cannot be reached or refused an operation; the message says what to fix."""


def check_key(key: str) -> str:
    """Keys are relative, slash-separated and never climb out of the store."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"storage key {key!r} is not a plain relative path")
    return key


class Store(Protocol):
    def incoming(self) -> tuple[IO[bytes], Path]: ...
    def commit(self, temp: Path, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def open_read(self, key: str) -> IO[bytes]: ...
    def fetch(self, key: str) -> AbstractContextManager[Path]: ...
    def put_bytes(self, key: str, data: bytes) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def describe(self) -> str: ...
