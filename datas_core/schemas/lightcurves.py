"""Light curves on the wire: one row per observation, times as BJD_TDB at mid-exposure."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import Field

from datas_core.schemas.common import Out, PageInfo


class LightCurveFormat(str, Enum):
    json = "json"
    csv = "csv"
    aavso = "aavso"


class LightCurveRow(Out):
    observation_id: str
    bjd_tdb: float = Field(description="barycentric Julian date (TDB) of mid-exposure")
    jd_utc: float = Field(description="Julian date (UTC) of mid-exposure")
    observed_at: datetime = Field(description="start of the exposure (UTC), as reported")
    exposure_sec: float | None = None
    filter: str | None = None
    magnitude: float | None = None
    mag_error: float | None = None
    flux: float | None = None
    flux_err: float | None = None
    zero_point: float | None = None
    airmass: float | None = None
    site_id: str
    quality_flags: list[str] = Field(default_factory=list)
    flagged: bool = Field(description="true when quality_flags is not empty")
    frame_id: str | None = None
    method: str | None = None
    pipeline_version: str | None = None
    reference_catalog: str | None = None


class LightCurveOut(PageInfo):
    target_id: int
    name: str
    ra_deg: float
    dec_deg: float
    time_system: str = Field(
        "BJD_TDB", description="bjd_tdb: mid-exposure, barycentric, TDB; jd_utc: mid-exposure"
    )
    filters: list[str] = Field(description="filters present in this page, sorted")
    rows: list[LightCurveRow] = Field(description="one per observation, in time order")
