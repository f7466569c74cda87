"""Shared field types: finite numbers, timezone-aware timestamps, list pages."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Finite = Annotated[float, Field(allow_inf_nan=False)]
RaDeg = Annotated[float, Field(ge=0.0, lt=360.0, allow_inf_nan=False, description="ICRS, deg")]
DecDeg = Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False, description="ICRS, deg")]
Magnitude = Annotated[float, Field(ge=-30.0, le=40.0, allow_inf_nan=False)]
Timestamp = Annotated[AwareDatetime, Field(description="ISO 8601 with a timezone, e.g. ...Z")]
FilterName = Annotated[str, Field(min_length=1, max_length=32, description="as in FITS FILTER")]


class Strict(BaseModel):
    """Input models reject unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageInfo(BaseModel):
    total: int
    limit: int
    offset: int
    next_offset: int | None = Field(None, description="offset of the next page; null on the last")
