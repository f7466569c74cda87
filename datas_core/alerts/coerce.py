"""Reading loosely typed feed values (ISO strings, JDs, numeric text) with clear errors."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from datas_core.alerts.errors import AlertParseError

_MJD_EPOCH = datetime(1858, 11, 17, tzinfo=timezone.utc)
# ISO 8601 as the feeds write it: "2023-04-16T05:22:26.150574Z", "2016-01-16 07:52:27",
# "2024-02-22T08:51:31.320000", "2018-11-01T22:34:49+00:00", "2024-01-05".
_ISO = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,12}))?)?)?"
    r"\s*(Z|UTC|[+-]\d{2}:?\d{2})?\s*$",
    re.IGNORECASE,
)


def iso_time(value: Any, field: str) -> datetime:
    """An ISO 8601 time; no zone means UTC (every feed here writes UTC)."""
    if not isinstance(value, str):
        raise AlertParseError(f"{field} must be an ISO 8601 time, got {type(value).__name__}")
    match = _ISO.match(value)
    if not match:
        raise AlertParseError(f"{field} {value[:40]!r} is not an ISO 8601 time")
    year, month, day, hour, minute, second, frac, zone = match.groups()
    try:
        when = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((frac or "0")[:6].ljust(6, "0")),
            tzinfo=timezone.utc,
        )
    except ValueError as exc:
        raise AlertParseError(f"{field} {value[:40]!r} is not a valid date: {exc}") from None
    if zone and zone.upper() not in ("Z", "UTC"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        when -= sign * offset  # the wall time was ahead of UTC by the offset
    return when


def jd_time(value: Any, field: str) -> datetime:
    """A Julian date (UTC, as ZTF writes `jd`) as an aware datetime."""
    jd = number(value, field)
    if not 2_400_000.0 < jd < 2_600_000.0:
        raise AlertParseError(f"{field} = {jd:g} is not a Julian date of this era")
    return _MJD_EPOCH + timedelta(days=jd - 2_400_000.5)


def number(value: Any, field: str) -> float:
    """A finite number, also from numeric text (CSV cells, VOEvent Param values)."""
    if isinstance(value, bool):
        raise AlertParseError(f"{field} must be a number, got a boolean")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise AlertParseError(f"{field} {value[:40]!r} is not a number") from None
    if not isinstance(value, int | float):
        raise AlertParseError(f"{field} must be a number, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise AlertParseError(f"{field} is {result!r}; only finite numbers are accepted")
    return result


def optional_number(value: Any, field: str, *, sentinels: tuple[float, ...] = ()) -> float | None:
    """None for missing, empty, 'null' or a feed's "no value" sentinel (ZTF writes -999)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null", "none")):
        return None
    result = number(value, field)
    return None if result in sentinels else result


def sexagesimal(value: Any, field: str, *, hours: bool) -> float:
    """Degrees from "hh:mm:ss.s" (hours=True) or "±dd:mm:ss.s", or from plain degrees."""
    if not isinstance(value, str) or (":" not in value and " " not in value.strip()):
        return number(value, field)
    parts = value.strip().replace(":", " ").split()
    if len(parts) != 3:
        raise AlertParseError(f"{field} {value[:40]!r} is not sexagesimal (h:m:s or d:m:s)")
    sign = -1.0 if parts[0].startswith("-") else 1.0
    first, minutes, seconds = (abs(number(p, field)) for p in parts)
    if minutes >= 60 or seconds >= 60:
        raise AlertParseError(f"{field} {value[:40]!r} has minutes or seconds beyond 60")
    degrees = sign * (first + minutes / 60 + seconds / 3600)
    return degrees * 15.0 if hours else degrees


def first_text(value: Any) -> str | None:
    """The first of a string-or-list field (GCN `id`, `event_name`), as text."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None or isinstance(value, bool | dict | list):
        return None
    result = str(value).strip()
    return result or None


def all_texts(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [t for item in value if (t := first_text(item))]
    one = first_text(value)
    return [one] if one else []


def content_hash(obj: Any) -> str:
    """A short stable digest: the natural key's last resort when a feed gives no version."""
    if isinstance(obj, bytes):
        data = obj
    else:
        data = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()
    return "sha256:" + hashlib.sha256(data).hexdigest()[:16]


def truncated(value: str | None, limit: int) -> str | None:
    """Free text (descriptions) is cut rather than refused: the raw payload keeps it whole."""
    if value is None:
        return None
    value = value.strip().replace("\x00", "")
    return value[:limit] if value else None


def json_document(data: bytes) -> Any:
    """Parsed JSON, refusing NaN/Infinity (not JSON) and nesting deep enough to crash."""

    def refuse(token: str) -> Any:
        raise AlertParseError(f"JSON contains {token}, which is not a JSON number")

    try:
        return json.loads(data, parse_constant=refuse)
    except AlertParseError:
        raise
    except RecursionError:
        raise AlertParseError("JSON is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, over-long integers
        raise AlertParseError(f"not valid JSON: {str(exc)[:200]}") from None


def mapping(value: Any) -> Mapping[str, Any]:
    """A JSON object field, or an empty one when it is null or not an object."""
    return value if isinstance(value, Mapping) else {}


def is_scalar(value: Any) -> bool:
    """A short text, a finite number or a boolean: fit for `Alert.details`."""
    if isinstance(value, str):
        return 0 < len(value) <= 1_000
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int | bool)


def class_probabilities(
    value: Any,
) -> tuple[str | None, float | None, tuple[tuple[str, float], ...]]:
    """{"GRB": 1} / {"BNS": 0.95, ...} -> the most probable class, its probability, all."""
    if isinstance(value, str):
        return value, None, ()
    if not isinstance(value, Mapping) or not value:
        return None, None, ()
    classes = tuple((str(k), number(p, f"probability of {str(k)[:40]}")) for k, p in value.items())
    best = max(classes, key=lambda item: item[1])
    return best[0], best[1], classes
