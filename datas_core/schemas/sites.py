"""Sites (telescopes) and their heartbeats."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from datas_core.schemas.common import (
    FilterName,
    Finite,
    JsonObject,
    Out,
    PageInfo,
    Strict,
    Timestamp,
)

AutomationLevel = Literal["manual", "assisted", "robotic"]
SiteId = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$",
        description="slug: lower-case letters, digits, '-' or '_', 2-64 characters",
    ),
]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class SiteFields(Strict):
    name: str = Field(min_length=1, max_length=200)
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False, description="deg, north +")
    longitude: float = Field(ge=-180, le=360, allow_inf_nan=False, description="deg, east +")
    elevation_m: float = Field(0.0, ge=-500, le=9000, allow_inf_nan=False)
    timezone: str | None = Field(None, max_length=64)
    country: str | None = Field(None, max_length=64)
    owner: str | None = Field(None, max_length=200)
    aperture_mm: Positive | None = None
    focal_length_mm: Positive | None = None
    filters: list[FilterName] = Field(default_factory=list)
    fov_arcmin: Positive | None = None
    limiting_mag: Annotated[float, Field(ge=0, le=30)] | None = None
    camera_gain: Positive | None = None
    read_noise_e: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    saturation_adu: Positive | None = None
    automation_level: AutomationLevel = "manual"
    altitude_limit_deg: float = Field(20.0, ge=0, lt=90)
    horizon: list[tuple[Finite, Finite]] | None = Field(
        None, description="[[azimuth_deg, altitude_deg], ...] local horizon profile"
    )
    ha_limit_east_h: Annotated[float, Field(ge=0, le=12)] | None = None
    ha_limit_west_h: Annotated[float, Field(ge=0, le=12)] | None = None
    availability: list[JsonObject] | None = None
    active: bool = True

    @field_validator("longitude")
    @classmethod
    def _wrap_longitude(cls, v: float) -> float:
        # Accept 0..360 east longitudes too; store (-180, 180].
        return v - 360.0 if v > 180.0 else v


class SiteCreate(SiteFields):
    site_id: SiteId | None = Field(
        None, description="slug; when left out, one is made from the name (unique)"
    )


class SiteOut(Out):
    site_id: str
    name: str
    latitude: float
    longitude: float
    elevation_m: float
    timezone: str | None = None
    country: str | None = None
    owner: str | None = None
    aperture_mm: float | None = None
    focal_length_mm: float | None = None
    filters: list[str] = Field(default_factory=list)
    fov_arcmin: float | None = None
    limiting_mag: float | None = None
    camera_gain: float | None = None
    read_noise_e: float | None = None
    saturation_adu: float | None = None
    automation_level: str
    altitude_limit_deg: float
    horizon: list[list[float]] | None = None
    ha_limit_east_h: float | None = None
    ha_limit_west_h: float | None = None
    availability: list[dict[str, Any]] | None = None
    reliability: float | None = None
    active: bool
    last_heartbeat_at: datetime | None = None
    status: Literal["online", "stale", "never_seen"] = "never_seen"
    created_at: datetime
    updated_at: datetime


class SitePage(PageInfo):
    sites: list[SiteOut]


class Weather(Strict):
    safe: bool | None = Field(None, description="the site's own safety verdict")
    cloud_cover_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    humidity_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    wind_speed_ms: Annotated[float, Field(ge=0, le=150)] | None = None
    rain: bool | None = None
    sky_temp_c: Annotated[float, Field(ge=-100, le=80)] | None = None
    ambient_temp_c: Annotated[float, Field(ge=-90, le=70)] | None = None
    dew_point_c: Annotated[float, Field(ge=-100, le=70)] | None = None
    sky_quality_mpsas: Annotated[float, Field(ge=10, le=25)] | None = None


class Heartbeat(Strict):
    reported_at: Timestamp | None = None
    state: str = Field("unknown", max_length=32, description="agent state, e.g. ready")
    weather: Weather = Field(default_factory=Weather)
    devices: JsonObject = Field(default_factory=dict)
    agent_version: str | None = Field(None, max_length=64)
    message: str | None = Field(None, max_length=2000)


class HeartbeatOut(Out):
    site_id: str
    received_at: datetime
    reported_at: datetime | None = None
    state: str
    weather: dict[str, Any]
    devices: dict[str, Any]
    agent_version: str | None = None
    message: str | None = None


class SiteDetail(SiteOut):
    latest_heartbeat: HeartbeatOut | None = None


class SiteUpdate(Strict):
    """Partial update (admin): only the fields sent change; `active: false` pauses the site."""

    name: str | None = Field(None, min_length=1, max_length=200)
    active: bool | None = None
    latitude: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    longitude: float | None = Field(None, ge=-180, le=360, allow_inf_nan=False)
    elevation_m: float | None = Field(None, ge=-500, le=9000, allow_inf_nan=False)
    timezone: str | None = Field(None, max_length=64)
    country: str | None = Field(None, max_length=64)
    owner: str | None = Field(None, max_length=200)
    aperture_mm: Positive | None = None
    focal_length_mm: Positive | None = None
    filters: list[FilterName] | None = None
    fov_arcmin: Positive | None = None
    limiting_mag: Annotated[float, Field(ge=0, le=30)] | None = None
    automation_level: AutomationLevel | None = None
    altitude_limit_deg: float | None = Field(None, ge=0, lt=90)

    @field_validator("longitude")
    @classmethod
    def _wrap_longitude(cls, v: float | None) -> float | None:
        return v - 360.0 if v is not None and v > 180.0 else v
