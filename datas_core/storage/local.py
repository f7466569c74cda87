"""The local object store: files under one root, written atomically (temp file, then rename)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from datas_core.storage.base import StorageError, check_key


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()
        (self.root / ".incoming").mkdir(parents=True, exist_ok=True)

    def incoming(self) -> tuple[IO[bytes], Path]:
        """A temporary file in the store's volume (so the final rename is atomic)."""
        fd, name = tempfile.mkstemp(dir=self.root / ".incoming")
        return os.fdopen(fd, "wb"), Path(name)

    def commit(self, temp: Path, key: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)

    def path(self, key: str) -> Path:
        target = (self.root / check_key(key)).resolve()
        if self.root not in target.parents:
            raise ValueError(f"storage key {key!r} leaves the store")
        return target

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def put_bytes(self, key: str, data: bytes) -> None:
        """Write one object atomically: readers see the old bytes or the new, never a part."""
        handle, temp = self.incoming()
        try:
            with handle:
                handle.write(data)
            self.commit(temp, key)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def get_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def open_read(self, key: str) -> IO[bytes]:
        return self.path(key).open("rb")

    @contextmanager
    def fetch(self, key: str) -> Iterator[Path]:
        """A readable local path: the stored file itself."""
        path = self.path(key)
        if not path.is_file():
            raise StorageError(f"object {key!r} is missing from {self.describe()}")
        yield path

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def describe(self) -> str:
        return f"local:{self.root}"
