"""Is it safe to observe? Checked before every transition of the observing loop.

Stale or missing readings count as unsafe, and so does a device in error or outside its limits;
after any unsafe verdict the site stays unsafe until conditions have been safe for the whole
hold-off (gusty wind must not make the roof flap).
User alarm rules add actions (pause, park, notify) on top of the built-in checks.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

from site_agent.config import AlarmRule, SafetyConfig, parse_condition
from site_agent.devices.base import DeviceStatus, WeatherReading

COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


@dataclass
class Verdict:
    safe: bool
    reasons: list[str] = field(default_factory=list)
    alarms: list[tuple[str, str]] = field(default_factory=list)  # (action, rule)
    holding_off: bool = False


class SafetyMonitor:
    def __init__(self, config: SafetyConfig, alarms: list[AlarmRule] | None = None) -> None:
        self.config = config
        self.alarms = [(parse_condition(a.when), a.action, a.when) for a in alarms or []]
        self.unsafe_until: float = 0.0  # hold-off end (unix seconds)
        self.ever_checked = False

    def check(
        self,
        now: float,
        sun_altitude_deg: float,
        weather: WeatherReading | None,
        devices: dict[str, DeviceStatus],
        free_disk_mb: float,
    ) -> Verdict:
        c = self.config
        reasons = []
        if not sun_altitude_deg <= c.sun_max_altitude_deg:  # NaN (a bad position) is unsafe too
            reasons.append(f"Sun at {sun_altitude_deg:.1f} deg (limit {c.sun_max_altitude_deg})")
        values: dict[str, float] = {"free_disk_mb": free_disk_mb}
        if weather is None:
            reasons.append("no weather reading")
        elif now - weather.timestamp > c.stale_seconds:
            reasons.append(f"weather reading {now - weather.timestamp:.0f} s old (stale)")
        else:
            checks = [
                ("wind_ms", weather.wind_ms, c.max_wind_ms, "wind"),
                ("humidity_pct", weather.humidity_pct, c.max_humidity_pct, "humidity"),
                ("cloud_pct", weather.cloud_pct, c.max_cloud_pct, "cloud"),
            ]
            for key, value, limit, label in checks:
                if value is not None and not math.isfinite(value):
                    value = None  # NaN compares false with every limit: it is unknown, not calm
                if value is None:
                    if label in c.required_readings:
                        reasons.append(f"{label} unknown")
                else:
                    values[key] = float(value)
                    if value > limit:
                        reasons.append(f"{label} {value:g} above {limit:g}")
            if weather.rain is None:
                if "rain" in c.required_readings:
                    reasons.append("rain sensor unknown")
            elif weather.rain:
                reasons.append("rain")
            values["rain"] = 1.0 if weather.rain else 0.0
            if weather.sky_temp_c is not None:
                values["sky_temp_c"] = float(weather.sky_temp_c)
        for name, status in devices.items():
            if status.state in ("error", "out-of-range"):  # out-of-range: outside site.yaml limits
                reasons.append(f"{name}: {status.message or status.state}")
        if free_disk_mb < c.min_free_disk_mb:
            reasons.append(f"free disk {free_disk_mb:.0f} MB below {c.min_free_disk_mb:.0f} MB")
        alarms = []
        for (key, op, limit), action, text in self.alarms:
            if key in values and COMPARE[op](values[key], limit):
                alarms.append((action, text))
                if action == "park":
                    reasons.append(f"alarm: {text}")
        if reasons:
            self.unsafe_until = now + c.holdoff_seconds
            return Verdict(False, reasons, alarms)
        if now < self.unsafe_until:
            left = self.unsafe_until - now
            return Verdict(
                False,
                [f"holding off {left:.0f} s after unsafe conditions"],
                alarms,
                holding_off=True,
            )
        return Verdict(True, [], alarms)
