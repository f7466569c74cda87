"""A normalized alert as pushed by a broker bot (feed-specific parsers produce the same shape)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from datas_core.schemas.common import DecDeg, JsonObject, Magnitude, Out, RaDeg, Strict, Timestamp


class AlertIn(Strict):
    feed: str = Field(
        min_length=1, max_length=32, pattern=r"^[a-z0-9_.-]+$", description="e.g. ztf, tns, gcn"
    )
    alert_id: str = Field(min_length=1, max_length=255, description="the feed's natural key")
    name: str | None = Field(None, max_length=200, description="object name, e.g. ZTF21abcdefg")
    ra_deg: RaDeg
    dec_deg: DecDeg
    match_radius_arcsec: Annotated[float, Field(gt=0, le=3600)] = 2.0
    magnitude: Magnitude | None = None
    observed_at: Timestamp | None = None
    classification: str | None = Field(None, max_length=64)
    target_type: str = Field("transient", max_length=32)
    priority: Annotated[float, Field(ge=0, le=10)] = 8.0
    payload: JsonObject = Field(default_factory=dict, description="the original alert")


class AlertResult(Out):
    status: Literal["created", "updated", "duplicate"]
    raw_alert_id: int
    target_id: int | None
    target_name: str | None = None
