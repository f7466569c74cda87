"""Targets: what the network observes, with requirements that drive the scheduler."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from datas_core.schemas.common import (
    DecDeg,
    FilterName,
    Finite,
    Magnitude,
    Out,
    PageInfo,
    RaDeg,
    Strict,
    Timestamp,
)

# "any": no limit on how many sites take the target in the same slot.
Redundancy = Literal["diverse", "simultaneous", "any"]
Priority = Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False, description="0-10")]
TargetName = Annotated[str, Field(min_length=1, max_length=200)]


class AliasIn(Strict):
    alias: Annotated[str, Field(min_length=1, max_length=200)]
    source: str | None = Field(None, max_length=64)


class TargetFields(Strict):
    target_type: str = Field("other", max_length=32, description="e.g. variable_star")
    classification: str | None = Field(None, max_length=64)
    magnitude: Magnitude | None = None
    priority: Priority = 5.0
    cadence_hours: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    epoch: Annotated[float, Field(ge=1800, le=2200)] = 2000.0
    pm_ra_masyr: Finite | None = None
    pm_dec_masyr: Finite | None = None
    t0: Timestamp | None = None
    exposure_hints: dict[str, float | str] | None = Field(
        None,
        description="suggested plan: 'filter', 'exposure_sec', 'count', 'min_fov_arcmin', "
        "and/or per-filter seconds such as {'V': 30, 'R': 20}; the target's light: "
        "'period_days', 'epoch_jd', 'amplitude_mag', 'duration_hours' (served as 'variability')",
    )
    filters: list[FilterName] = Field(default_factory=list)
    total_needed: Annotated[int, Field(ge=1)] | None = None
    max_airmass: Annotated[float, Field(ge=1.0, le=10.0)] | None = None
    min_moon_distance_deg: Annotated[float, Field(ge=0, le=180)] | None = None
    max_moon_phase: Annotated[float, Field(ge=0, le=1)] | None = None
    time_critical_start: Timestamp | None = None
    time_critical_end: Timestamp | None = None
    time_critical_boost: Annotated[float, Field(ge=1.0, le=1000.0)] | None = None
    redundancy: Redundancy | None = None
    expires_at: Timestamp | None = None
    active: bool = True
    notes: str | None = Field(None, max_length=10_000)
    source: str | None = Field(None, max_length=64)

    @model_validator(mode="after")
    def _window_order(self) -> TargetFields:
        if (
            self.time_critical_start
            and self.time_critical_end
            and self.time_critical_end <= self.time_critical_start
        ):
            raise ValueError("time_critical_end must be after time_critical_start")
        return self


class TargetCreate(TargetFields):
    name: TargetName
    ra_deg: RaDeg
    dec_deg: DecDeg
    aliases: list[AliasIn] = Field(default_factory=list)


class TargetUpdate(Strict):
    """Partial update: only the fields sent are changed."""

    name: TargetName | None = None
    ra_deg: RaDeg | None = None
    dec_deg: DecDeg | None = None
    target_type: str | None = Field(None, max_length=32)
    classification: str | None = None
    magnitude: Magnitude | None = None
    priority: Priority | None = None
    cadence_hours: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    filters: list[FilterName] | None = None
    total_needed: Annotated[int, Field(ge=1)] | None = None
    max_airmass: Annotated[float, Field(ge=1.0, le=10.0)] | None = None
    min_moon_distance_deg: Annotated[float, Field(ge=0, le=180)] | None = None
    max_moon_phase: Annotated[float, Field(ge=0, le=1)] | None = None
    time_critical_start: Timestamp | None = None
    time_critical_end: Timestamp | None = None
    time_critical_boost: Annotated[float, Field(ge=1.0, le=1000.0)] | None = None
    redundancy: Redundancy | None = None
    expires_at: Timestamp | None = None
    active: bool | None = None
    notes: str | None = None


class AliasOut(Out):
    alias: str
    source: str | None = None


class TargetOut(Out):
    target_id: int
    name: str
    ra_deg: float
    dec_deg: float
    target_type: str
    classification: str | None = None
    magnitude: float | None = None
    priority: float
    cadence_hours: float | None = None
    epoch: float = 2000.0
    pm_ra_masyr: float | None = None
    pm_dec_masyr: float | None = None
    t0: datetime | None = None
    exposure_hints: dict[str, float | str] | None = None
    filters: list[str] = Field(default_factory=list)
    total_needed: int | None = None
    max_airmass: float | None = None
    min_moon_distance_deg: float | None = None
    max_moon_phase: float | None = None
    time_critical_start: datetime | None = None
    time_critical_end: datetime | None = None
    time_critical_boost: float | None = None
    redundancy: str | None = None
    expires_at: datetime | None = None
    active: bool = True
    notes: str | None = None
    source: str | None = None
    aliases: list[AliasOut] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class TargetPage(PageInfo):
    targets: list[TargetOut]


class ConeMatch(TargetOut):
    separation_arcsec: float


class ConeResult(PageInfo):
    targets: list[ConeMatch]


class RankedTarget(TargetOut):
    rank: int
    score: float
    altitude_deg: float
    azimuth_deg: float
    airmass: float
    terms: dict[str, float] = Field(default_factory=dict, description="what made the score")
    variability: dict[str, float] | None = Field(
        None,
        description="what the target's exposure_hints say about its light: period_days, "
        "epoch_jd (maximum, primary minimum or mid-transit), amplitude_mag, duration_hours",
    )


class SiteTargetList(PageInfo):
    site_id: str
    generated_at: datetime
    ranking: str = Field(description="which ranking produced this list")
    excluded: dict[str, int] = Field(default_factory=dict, description="reason -> count")
    targets: list[RankedTarget]
