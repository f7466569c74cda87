"""The local object store: files under one root, written atomically (temp file, then rename)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from datas_core.storage.base import (
    ABANDONED_AFTER_SECONDS,
    ObjectMissing,
    StorageError,
    check_key,
    remove_abandoned,
)


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()
        self._incoming = self.root / ".incoming"
        with suppress(OSError):  # reported by check() and by the first write, with what to fix
            self._incoming.mkdir(parents=True, exist_ok=True)

    def _unusable(self, exc: OSError) -> StorageError:
        return StorageError(
            f"the object store directory {self.root} is not writable ({exc.strerror or exc}); "
            "fix its permissions or free space, or point DATAS_STORAGE_URL (or "
            "DATAS_STORAGE_DIR) elsewhere"
        )

    def incoming(self) -> tuple[IO[bytes], Path]:
        """A temporary file in the store's volume (so the final rename is atomic)."""
        try:
            self._incoming.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self._incoming)
        except OSError as exc:
            raise self._unusable(exc) from exc
        return os.fdopen(fd, "wb"), Path(name)

    def commit(self, temp: Path, key: str) -> None:
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
        except OSError as exc:
            raise self._unusable(exc) from exc

    def path(self, key: str) -> Path:
        target = (self.root / check_key(key)).resolve()
        if self.root not in target.parents:
            raise ValueError(f"storage key {key!r} leaves the store")
        return target

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def put_bytes(self, key: str, data: bytes) -> None:
        """Write one object atomically: readers see the old bytes or the new, never a part."""
        self.path(key)
        handle, temp = self.incoming()
        try:
            with handle:
                handle.write(data)
            self.commit(temp, key)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def get_bytes(self, key: str) -> bytes:
        with self.open_read(key) as handle:
            return handle.read()

    def open_read(self, key: str) -> IO[bytes]:
        try:
            return self.path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise self._missing(key) from exc

    @contextmanager
    def fetch(self, key: str) -> Iterator[Path]:
        """A readable local path: the stored file itself."""
        path = self.path(key)
        if not path.is_file():
            raise self._missing(key)
        yield path

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def check(self) -> None:
        handle, temp = self.incoming()
        handle.close()
        temp.unlink(missing_ok=True)

    def describe(self) -> str:
        return f"local:{self.root}"

    def clean_incoming(self, older_than_seconds: float = ABANDONED_AFTER_SECONDS) -> int:
        return remove_abandoned(self._incoming, "*", older_than_seconds)

    def _missing(self, key: str) -> ObjectMissing:
        return ObjectMissing(f"object {key!r} is missing from {self.describe()}")
