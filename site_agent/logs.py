"""Logs: JSON lines in a rotating file (for tools), readable lines on the console (for people)."""

from __future__ import annotations

import json
import logging
import logging.handlers
from datetime import datetime, timezone
from pathlib import Path


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging(state_dir: Path, level: str = "INFO") -> Path:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / "agent.log.jsonl"
    root = logging.getLogger("datas")
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    rotating = logging.handlers.RotatingFileHandler(path, maxBytes=10_000_000, backupCount=5)
    rotating.setFormatter(JsonLines())
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    root.addHandler(rotating)
    root.addHandler(console)
    return path
