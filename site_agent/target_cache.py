"""The last target list from the server, kept on disk with an expiry for offline nights."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class TargetCache:
    def __init__(self, path: Path, max_age_seconds: float) -> None:
        self.path = path
        self.max_age = max_age_seconds

    def store(self, targets: list[dict[str, Any]], now: float) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"fetched_at": now, "targets": targets}))
        os.replace(tmp, self.path)  # atomic: a crash never leaves half a file

    def load(self, now: float) -> list[dict[str, Any]] | None:
        """The cached list if it is younger than the expiry, else None (also if unreadable)."""
        try:
            data = json.loads(self.path.read_text())
            fetched = float(data["fetched_at"])
            targets = data["targets"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if now - fetched > self.max_age or not isinstance(targets, list):
            return None
        return targets
