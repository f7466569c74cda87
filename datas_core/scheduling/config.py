"""The scheduler's settings from DATAS_SCHEDULER_* variables (one place for every process)."""

from __future__ import annotations

from datas_core.scheduling.inputs import SchedulerConfig
from datas_core.settings import Settings


def scheduler_config(settings: Settings) -> SchedulerConfig:
    return SchedulerConfig(
        lookahead_minutes=settings.scheduler_lookahead_minutes,
        sun_limit_deg=settings.scheduler_sun_limit_deg,
        validity_minutes=settings.scheduler_validity_minutes,
        keep_per_site=settings.scheduler_keep_per_site,
    )
