"""The local object store: files under one root, written atomically (temp file, then rename)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()
        (self.root / ".incoming").mkdir(parents=True, exist_ok=True)

    def incoming(self) -> tuple[IO[bytes], Path]:
        """A temporary file in the store's volume (so the final rename is atomic)."""
        fd, name = tempfile.mkstemp(dir=self.root / ".incoming")
        return os.fdopen(fd, "wb"), Path(name)

    def commit(self, temp: Path, key: str) -> Path:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        return target

    def path(self, key: str) -> Path:
        target = (self.root / key).resolve()
        if self.root not in target.parents:
            raise ValueError(f"storage key {key!r} leaves the store")
        return target

    def exists(self, key: str) -> bool:
        return self.path(key).exists()
