"""Weather from a site's last heartbeat: a factor for the score, or why the site is not scheduled.

Stale is unknown and unknown is never safe (the lesson of every robotic observatory).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

# States in which the agent will not observe whatever the sky does. A parked or safe-hold agent
# that reports safe weather is about to resume, so those states alone do not exclude a site.
UNSAFE_STATES = {"error", "paused", "stopped"}


def weather_verdict(
    received_at: datetime | None,
    weather: dict[str, Any] | None,
    state: str | None,
    now: datetime,
    stale_minutes: float,
) -> tuple[float, str | None]:
    """(factor in 0..1, reason when 0)."""
    if received_at is None:
        return 0.0, "weather unknown: the site has never sent a heartbeat"
    age = now - received_at
    if age < -timedelta(minutes=5):
        return 0.0, "weather unknown: the last heartbeat is later than the ranking time"
    if age > timedelta(minutes=stale_minutes):
        return 0.0, f"weather unknown: last heartbeat {age.total_seconds() / 60:.0f} min ago"
    if state and state.lower() in UNSAFE_STATES:
        return 0.0, f"site reports state {state!r}"
    weather = weather or {}
    if weather.get("rain"):
        return 0.0, "rain reported"
    safe = weather.get("safe")
    if safe is False:
        return 0.0, "the site reports unsafe conditions"
    cloud = weather.get("cloud_cover_pct")
    if safe is None and cloud is None:
        return 0.0, "weather unknown: the heartbeat has neither 'safe' nor 'cloud_cover_pct'"
    if isinstance(cloud, (int, float)):
        if cloud >= 90:
            return 0.0, f"overcast ({cloud:.0f}% cloud)"
        return max(0.1, 1.0 - 0.8 * cloud / 100.0), None
    return 1.0, None
