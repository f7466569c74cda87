"""What the agent reports about itself, next to its devices: the last unexpected failure and
when it retries, what it refused from the target list, and whether uploads get through.

Goes into every heartbeat as `devices["agent"]` (the server keeps `devices` as given) and into
`datas-agent status`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

MAX_REASONS = 10


@dataclass
class AgentHealth:
    error: str | None = None  # the last unexpected failure, while it holds the agent
    retry_at: float | None = None  # when observing is tried again after it
    target_list: str = "not fetched yet"  # "ok" or why the last refresh failed
    rejected_targets: int = 0  # entries skipped from the latest list
    rejections: list[str] = field(default_factory=list)  # why (the first few of them)
    rejected_targets_total: int = 0
    last_rejection: str | None = None
    uploads: str = "ok"  # or why uploads are stopped

    def failed(self, reason: str, retry_at: float) -> None:
        self.error, self.retry_at = reason, retry_at

    def recovered(self) -> None:
        self.error, self.retry_at = None, None

    def holding(self, now: float) -> bool:
        return self.error is not None and self.retry_at is not None and now < self.retry_at

    def list_refreshed(self, rejected: list[str]) -> None:
        self.target_list = "ok"
        self.rejected_targets = len(rejected)
        self.rejections = rejected[:MAX_REASONS]
        self.rejected_targets_total += len(rejected)
        if rejected:
            self.last_rejection = rejected[-1]

    def as_dict(self) -> dict[str, Any]:
        retry = None
        if self.retry_at is not None:
            retry = datetime.fromtimestamp(self.retry_at, tz=timezone.utc).isoformat()
        return {
            "error": self.error,
            "retry_at": retry if self.error else None,
            "target_list": self.target_list,
            "rejected_targets": self.rejected_targets,
            "rejections": list(self.rejections),
            "rejected_targets_total": self.rejected_targets_total,
            "last_rejection": self.last_rejection,
            "uploads": self.uploads,
        }


def json_safe(value: Any) -> Any:
    """Plain JSON the server accepts: NaN/Infinity become null and NUL characters go (the
    server refuses a heartbeat holding either, and the site would look offline), unknown types
    become text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    return str(value).replace("\x00", "")
