"""Bounds every normalized alert must satisfy, whatever feed it came from.

A value outside them is refused with `AlertParseError` naming the field, so a bad packet becomes
a rejection record with a reason instead of a target at dec 95 or a 10 MB classification.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

from datas_core.alerts.errors import AlertParseError

EARLIEST_TIME = datetime(1990, 1, 1, tzinfo=timezone.utc)  # before any feed we read existed
FUTURE_SLACK = timedelta(days=1)  # clocks and time zones; more than this is a bad packet
MAX_KEY = 255  # raw_alerts.natural_key, alert_events.event_id
MAX_FEED = 32
MAX_NAME = 200
MAX_CLASSIFICATION = 200
MAX_BAND = 32
MAX_URL = 512  # alert_events.skymap_url
MAX_DESCRIPTION = 10_000
MAX_DETAIL_TEXT = 1_000
MAX_LINKS = 32
MAX_ALIASES = 64
MAX_CLASSES = 64
MAX_DETAILS = 200
MAX_HISTORY = 20_000
MAX_WARNINGS = 32
MAG_RANGE = (-30.0, 40.0)  # the Sun is -27; deeper than 40 is not a measurement
MAG_ERR_RANGE = (0.0, 10.0)


def finite(value: Any, field: str) -> float:
    """A real, finite number (bools and numeric strings are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AlertParseError(f"{field} must be a number, got {_show(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise AlertParseError(f"{field} is {number!r}; only finite numbers are accepted")
    return number


def in_range(value: Any, field: str, low: float, high: float, *, high_open: bool = False) -> float:
    number = finite(value, field)
    if number < low or number > high or (high_open and number == high):
        bracket = ")" if high_open else "]"
        raise AlertParseError(f"{field} = {number:g} is outside [{low:g}, {high:g}{bracket}")
    return number


def ra_deg(value: Any, field: str = "ra") -> float:
    number = finite(value, field)
    if number == 360.0:  # a rounded 359.99999...: the same place as 0
        return 0.0
    return in_range(number, field, 0.0, 360.0, high_open=True)


def dec_deg(value: Any, field: str = "dec") -> float:
    return in_range(value, field, -90.0, 90.0)


def probability(value: Any, field: str) -> float:
    return in_range(value, field, 0.0, 1.0)


def magnitude(value: Any, field: str = "magnitude") -> float:
    return in_range(value, field, *MAG_RANGE)


def magnitude_error(value: Any, field: str = "magnitude error") -> float:
    return in_range(value, field, *MAG_ERR_RANGE)


def utc_time(value: Any, field: str, *, now: datetime | None = None) -> datetime:
    """An aware time between 1990 and tomorrow, returned in UTC."""
    if not isinstance(value, datetime):
        raise AlertParseError(f"{field} must be a time, got {_show(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise AlertParseError(f"{field} has no time zone; alert times must be UTC")
    value = value.astimezone(timezone.utc)
    if value < EARLIEST_TIME:
        raise AlertParseError(f"{field} {value.isoformat()} is before 1990; not a real alert")
    latest = (now or datetime.now(timezone.utc)) + FUTURE_SLACK
    if value > latest:
        raise AlertParseError(f"{field} {value.isoformat()} is more than a day in the future")
    return value


def text(value: Any, field: str, limit: int, *, empty_ok: bool = False) -> str:
    """Bounded text without NUL (PostgreSQL refuses it) — too long is refused, not cut."""
    if not isinstance(value, str):
        raise AlertParseError(f"{field} must be text, got {_show(value)}")
    if len(value) > limit:
        raise AlertParseError(
            f"{field} is {len(value):,} characters long; at most {limit:,} are accepted"
        )
    if "\x00" in value:
        raise AlertParseError(f"{field} contains a NUL character")
    if not empty_ok and not value.strip():
        raise AlertParseError(f"{field} is empty")
    return value


def url(value: Any, field: str = "link") -> str:
    value = text(value, field, MAX_URL)
    if not value.startswith(("https://", "http://")):
        raise AlertParseError(f"{field} {value[:60]!r} is not an http(s) URL")
    if any(ch.isspace() for ch in value):
        raise AlertParseError(f"{field} {value[:60]!r} contains white space")
    return value


def count(items: tuple[Any, ...], field: str, limit: int) -> None:
    if len(items) > limit:
        raise AlertParseError(f"{field} has {len(items):,} entries; at most {limit:,} are accepted")


def detail_value(name: str, value: Any) -> None:
    text(name, "detail name", 100)
    if isinstance(value, str):
        text(value, f"detail {name}", MAX_DETAIL_TEXT, empty_ok=True)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if abs(value) > 2**63 - 1:
            raise AlertParseError(f"detail {name} does not fit in 64 bits")
    else:
        finite(value, f"detail {name}")


def _show(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
