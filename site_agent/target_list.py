"""The server's ranked target list, checked entry by entry before anything moves.

Whatever `GET /api/v1/targets` answers, one bad entry must not cost the site its night: an
entry with a missing field, a wrong type, an out-of-range value or a NaN/Infinity anywhere (the
server once sent a literal NaN in a target's exposure_hints) is skipped with the reason, and the
good entries are kept. Only a body that is not a target list at all is refused as a whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# The bounds of a site's own plan step (site_agent.config.PlanStep), so both obey one rule.
MAX_EXPOSURE_SEC = 3600.0
MAX_COUNT = 1000
# What an entry says about the target's light (the simulator renders it; hardware ignores it).
VARIABILITY_KEYS = ("period_days", "epoch_jd", "amplitude_mag", "duration_hours")


class TargetListError(Exception):
    """The answer is not a target list at all (wrong top-level shape)."""


class BadEntry(ValueError):
    pass


@dataclass(frozen=True)
class NetworkTarget:
    target_id: int
    name: str
    ra_deg: float
    dec_deg: float
    filter: str
    exposure_sec: float
    count: int
    magnitude: float | None = None
    target_type: str | None = None
    classification: str | None = None
    variability: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"target:{self.target_id}"

    def as_dict(self) -> dict[str, Any]:
        """The server's own shape, so the cache reads back through the same check."""
        return {
            "target_id": self.target_id,
            "name": self.name,
            "ra_deg": self.ra_deg,
            "dec_deg": self.dec_deg,
            "magnitude": self.magnitude,
            "target_type": self.target_type,
            "classification": self.classification,
            "variability": dict(self.variability) or None,
            "exposure_plan": {
                "filter": self.filter,
                "exposure_sec": self.exposure_sec,
                "count": self.count,
            },
        }


@dataclass
class CheckedList:
    targets: list[NetworkTarget] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # one reason per skipped entry


def read_target_list(body: Any) -> CheckedList:
    """The server's answer ({"targets": [...]}), checked entry by entry."""
    if not isinstance(body, dict):
        raise TargetListError(f"expected an object with a 'targets' list, got {_kind(body)}")
    if not isinstance(body.get("targets"), list):
        got = _kind(body["targets"]) if "targets" in body else "no 'targets'"
        raise TargetListError(f"expected an object with a 'targets' list, got {got}")
    return read_entries(body["targets"])


def read_entries(entries: list[Any]) -> CheckedList:
    out = CheckedList()
    for number, entry in enumerate(entries):
        try:
            out.targets.append(read_entry(entry))
        except BadEntry as exc:
            out.rejected.append(f"{_label(number, entry)}: {exc}")
    return out


def read_entry(entry: Any) -> NetworkTarget:
    if not isinstance(entry, dict):
        raise BadEntry(f"expected an object, got {_kind(entry)}")
    bad = _first_non_finite(entry)
    if bad is not None:
        raise BadEntry(f"{bad[0]} is {bad[1]} (not a finite number)")
    target_id = entry.get("target_id")
    if not isinstance(target_id, int) or isinstance(target_id, bool) or target_id < 1:
        raise BadEntry(f"target_id: expected a positive integer, got {_shown(target_id)}")
    name = entry.get("name", f"target {target_id}")
    if not isinstance(name, str) or not name.strip():
        raise BadEntry(f"name: expected a text, got {_shown(name)}")
    ra = _number(entry, "ra_deg", 0.0, 360.0, upper_open=True)
    dec = _number(entry, "dec_deg", -90.0, 90.0)
    plan = entry.get("exposure_plan")
    if plan is None:
        plan = {}
    if not isinstance(plan, dict):
        raise BadEntry(f"exposure_plan: expected an object, got {_kind(plan)}")
    filt = plan.get("filter") or "V"
    if not isinstance(filt, str) or len(filt) > 32:
        raise BadEntry(f"exposure_plan.filter: expected a filter name, got {_shown(filt)}")
    seconds = 30.0
    if plan.get("exposure_sec") is not None:
        seconds = _number(plan, "exposure_sec", 0.0, MAX_EXPOSURE_SEC, "exposure_plan.")
        if seconds <= 0:
            raise BadEntry(f"exposure_plan.exposure_sec: must be above 0, got {seconds:g}")
    count = plan.get("count", 1)
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COUNT:
        raise BadEntry(f"exposure_plan.count: expected 1..{MAX_COUNT}, got {_shown(count)}")
    return NetworkTarget(
        target_id,
        name[:200],
        ra,
        dec,
        filt,
        seconds,
        count,
        magnitude=_optional_number(entry.get("magnitude"), -30.0, 40.0),
        target_type=_optional_text(entry.get("target_type")),
        classification=_optional_text(entry.get("classification")),
        variability=_variability(entry.get("variability")),
    )


# Descriptive fields are optional: a malformed one is left out, never a reason to skip a target.
def _optional_number(value: Any, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if low <= value <= high else None


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def _variability(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    numbers = {k: _optional_number(value.get(k), -1e9, 1e9) for k in VARIABILITY_KEYS}
    return {k: v for k, v in numbers.items() if v is not None}


def _number(
    data: dict[str, Any],
    key: str,
    low: float,
    high: float,
    prefix: str = "",
    upper_open: bool = False,
) -> float:
    if key not in data:
        raise BadEntry(f"{prefix}{key} is missing")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadEntry(f"{prefix}{key}: expected a number, got {_shown(value)}")
    value = float(value)
    if value < low or value > high or (upper_open and value == high):
        end = ")" if upper_open else "]"
        raise BadEntry(f"{prefix}{key}: {value:g} is outside [{low:g}, {high:g}{end}")
    return value


def _first_non_finite(entry: dict[str, Any]) -> tuple[str, str] | None:
    """Where the first NaN/Infinity is in an entry (iterative: deep nesting cannot crash it)."""
    stack: list[tuple[str, Any]] = [("", entry)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return path or "the entry", "NaN" if math.isnan(value) else "Infinity"
        if isinstance(value, dict):
            stack.extend((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _label(number: int, entry: Any) -> str:
    if isinstance(entry, dict):
        target_id, name = entry.get("target_id"), entry.get("name")
        if _is_int(target_id) and isinstance(name, str):
            return f"entry {number} (target {target_id}, {name[:60]})"
        if _is_int(target_id):
            return f"entry {number} (target {target_id})"
    return f"entry {number}"


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a text", bool: "true/false"}
    names.update({int: "a number", float: "a number", type(None): "null"})
    return names.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    return repr(value)[:60]
