"""Shared field types and the input rules every model obeys.

Everything a client sends must be storable on both backends and readable back as valid JSON:
no NaN or infinities (not JSON; PostgreSQL's jsonb refuses them), no NUL characters (PostgreSQL
text refuses them), no integers beyond the database's columns, no dates that overflow when
converted to UTC, and free-form JSON fields bounded in depth and size.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

# Database ids are 32-bit on PostgreSQL (INTEGER / SERIAL columns).
MAX_DB_INT = 2**31 - 1
# Free-form JSON fields (comparison stars, device states, alert payloads...).
MAX_JSON_DEPTH = 16
MAX_JSON_VALUES = 20_000
MAX_JSON_STRING = 100_000
# Dates the system can hold and convert (years 1 and 9999 overflow once shifted to UTC).
EARLIEST = datetime(1800, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2500, 1, 1, tzinfo=timezone.utc)


class UnsafeValue(ValueError):
    """A value that could be parsed but not stored or served as JSON."""


def check_scalar(value: Any, where: str = "value") -> None:
    """NaN/inf floats, NUL characters and out-of-range integers are refused everywhere."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnsafeValue(f"{where}: {value!r} is not a finite number (JSON has no NaN/inf)")
    elif isinstance(value, str):
        if "\x00" in value:
            raise UnsafeValue(f"{where}: text may not contain NUL (\\u0000) characters")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**63 - 1:
        raise UnsafeValue(f"{where}: this integer does not fit in 64 bits")


def _where(path: tuple[Any, ...] | None) -> str:
    parts: list[str] = []
    while path is not None:
        path, key = path
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "".join(reversed(parts)).lstrip(".") or "value"


def check_json(
    value: Any,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    max_values: int = MAX_JSON_VALUES,
    max_string: int = MAX_JSON_STRING,
    other_objects: bool = False,
) -> Any:
    """Walk a JSON-like value (iteratively: no recursion limit to hit) and enforce the rules.

    `other_objects` lets through values that are not JSON (datetimes, models built in code):
    their own validation covers them.
    """
    # (value, depth, path as a linked (parent, key) pair: built only into text on an error)
    stack: list[tuple[Any, int, Any]] = [(value, 1, None)]
    seen = 0
    while stack:
        item, depth, path = stack.pop()
        seen += 1
        if seen > max_values:
            raise UnsafeValue(f"holds more than {max_values} values; send less free-form data")
        if isinstance(item, dict):
            if depth > max_depth:
                raise UnsafeValue(f"{_where(path)}: nested deeper than {max_depth} levels")
            for key, child in item.items():
                if not isinstance(key, str):
                    raise UnsafeValue(f"{_where(path)}: object keys must be strings")
                check_scalar(key, _where((path, key)))
                stack.append((child, depth + 1, (path, key)))
        elif isinstance(item, (list, tuple)):
            if depth > max_depth:
                raise UnsafeValue(f"{_where(path)}: nested deeper than {max_depth} levels")
            stack.extend((child, depth + 1, (path, i)) for i, child in enumerate(item))
        elif item is None or isinstance(item, (bool, int, float, str)):
            check_scalar(item, _where(path))
            if isinstance(item, str) and len(item) > max_string:
                raise UnsafeValue(f"{_where(path)}: longer than {max_string} characters")
        elif not other_objects:
            raise UnsafeValue(f"{_where(path)}: a {type(item).__name__} is not a JSON value")
    return value


def _bounded(value: Any) -> Any:
    return check_json(value)


# Free-form JSON fields: any JSON, bounded (see MAX_JSON_*).
JsonObject = Annotated[dict[str, Any], AfterValidator(_bounded)]
JsonList = Annotated[list[Any], AfterValidator(_bounded)]


def _supported_time(value: datetime) -> datetime:
    try:
        utc = value.astimezone(timezone.utc)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"{value.isoformat()} cannot be converted to UTC") from exc
    if not EARLIEST <= utc < LATEST:
        raise ValueError(
            f"{utc.isoformat()} is outside the supported range {EARLIEST.year}-{LATEST.year - 1}"
        )
    return utc


Finite = Annotated[float, Field(allow_inf_nan=False)]
DbId = Annotated[int, Field(ge=1, le=MAX_DB_INT, description="a database id")]
Offset = Annotated[int, Field(ge=0, le=MAX_DB_INT)]
RaDeg = Annotated[float, Field(ge=0.0, lt=360.0, allow_inf_nan=False, description="ICRS, deg")]
DecDeg = Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False, description="ICRS, deg")]
Magnitude = Annotated[float, Field(ge=-30.0, le=40.0, allow_inf_nan=False)]
# A timezone-aware time in the supported range, converted to UTC (usable in query parameters).
UtcTime = Annotated[AwareDatetime, AfterValidator(_supported_time)]
Timestamp = Annotated[UtcTime, Field(description="ISO 8601 with a timezone, e.g. ...Z")]
FilterName = Annotated[str, Field(min_length=1, max_length=32, description="as in FITS FILTER")]


def _holds_nul(data: Any) -> bool:
    """Fast scan of raw input for NUL in any string or key (typed floats are checked by
    pydantic itself: `allow_inf_nan=False`; free-form fields by `JsonObject`/`JsonList`)."""
    stack = [data]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            if "\x00" in item:
                return True
        elif kind is dict:
            stack.extend(item)
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
    return False


def _check_input(data: Any) -> Any:
    if isinstance(data, dict) and _holds_nul(data):
        # Walk again, slowly, only to say where it is.
        check_json(
            data, max_depth=64, max_values=10_000_000, max_string=10_000_000, other_objects=True
        )
    return data


class Strict(BaseModel):
    """Input models reject unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        return _check_input(data)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageInfo(BaseModel):
    total: int
    limit: int
    offset: int
    next_offset: int | None = Field(None, description="offset of the next page; null on the last")
