"""Campaigns group targets with a shared boost and redundancy policy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from datas_core.schemas.common import DbId, Out, PageInfo, Strict, Timestamp


class CampaignCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    priority_boost: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] = 1.0
    redundancy: Literal["diverse", "simultaneous"] = "diverse"
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    active: bool = True

    @model_validator(mode="after")
    def _window_order(self) -> CampaignCreate:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class CampaignTargetsIn(Strict):
    target_ids: list[DbId] = Field(min_length=1, max_length=100_000)


class CampaignOut(Out):
    campaign_id: int
    name: str
    description: str | None = None
    priority_boost: float
    redundancy: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool
    created_at: datetime
    target_count: int = 0


class CampaignDetail(CampaignOut):
    target_ids: list[int] = Field(default_factory=list)


class CampaignPage(PageInfo):
    campaigns: list[CampaignOut]
