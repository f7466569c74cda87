"""Observations: photometry and astrometry reported by sites or produced by the pipeline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from datas_core.schemas.common import (
    DbId,
    DecDeg,
    FilterName,
    Finite,
    JsonList,
    Magnitude,
    Out,
    PageInfo,
    RaDeg,
    Strict,
    Timestamp,
)

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class ObservationIn(Strict):
    observation_id: UUID = Field(description="client-generated UUID: the idempotency key")
    target_id: DbId
    site_id: str = Field(min_length=1, max_length=64)
    observed_at: Timestamp = Field(
        description="start of the exposure (FITS DATE-OBS), ISO 8601 with a timezone"
    )
    exposure_sec: Annotated[float, Field(gt=0, le=86400, allow_inf_nan=False)] | None = None
    filter: FilterName | None = None
    airmass: Annotated[float, Field(ge=1.0, le=100.0, allow_inf_nan=False)] | None = None
    magnitude: Magnitude | None = None
    mag_error: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] | None = None
    flux: Finite | None = None
    flux_err: NonNegative | None = None
    zero_point: Finite | None = None
    comparison_stars: JsonList = Field(default_factory=list)
    method: str | None = Field(None, max_length=32)
    ra_deg: RaDeg | None = None
    dec_deg: DecDeg | None = None
    seeing_arcsec: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] | None = None
    quality_flags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list)
    frame_id: str | None = Field(None, max_length=36)
    pipeline_version: str | None = Field(None, max_length=32)
    reference_catalog: str | None = Field(None, max_length=64)


class ObservationBatch(Strict):
    observations: list[ObservationIn] = Field(min_length=1)


class ObservationOut(Out):
    observation_id: str
    target_id: int
    site_id: str
    observed_at: datetime
    exposure_sec: float | None = None
    filter: str | None = None
    airmass: float | None = None
    magnitude: float | None = None
    mag_error: float | None = None
    flux: float | None = None
    flux_err: float | None = None
    zero_point: float | None = None
    comparison_stars: list[Any] = Field(default_factory=list)
    method: str | None = None
    ra_deg: float | None = None
    dec_deg: float | None = None
    seeing_arcsec: float | None = None
    quality_flags: list[str] = Field(default_factory=list)
    frame_id: str | None = None
    pipeline_version: str | None = None
    reference_catalog: str | None = None
    received_at: datetime


class IngestResult(Out):
    created: int
    replayed: int
    observations: list[ObservationOut]


class ObservationPage(PageInfo):
    observations: list[ObservationOut]
