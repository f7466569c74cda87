"""Campaigns."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from datas_api.auditing import AuditedAdmin
from datas_api.deps import Reader, SessionDep
from datas_api.params import IdPath, OffsetQuery
from datas_core.schemas.campaigns import (
    CampaignCreate,
    CampaignDetail,
    CampaignOut,
    CampaignPage,
    CampaignTargetsIn,
)
from datas_core.services import audit, campaigns

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])


def _detail(session: SessionDep, campaign_id: int) -> dict[str, Any]:
    campaign = campaigns.get_campaign(session, campaign_id)
    ids = campaigns.campaign_target_ids(session, campaign_id)
    return {
        **CampaignOut.model_validate(campaign).model_dump(),
        "target_count": len(ids),
        "target_ids": ids,
    }


@router.get("", response_model=CampaignPage)
def list_campaigns(
    session: SessionDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetQuery = 0,
) -> Any:
    page, counts = campaigns.list_campaigns(session, limit=limit, offset=offset)
    rows = [
        {**CampaignOut.model_validate(c).model_dump(), "target_count": counts.get(c.campaign_id, 0)}
        for c in page.items
    ]
    return {"campaigns": rows, **page.info()}


@router.post("", response_model=CampaignDetail, status_code=status.HTTP_201_CREATED)
def create_campaign(body: CampaignCreate, session: SessionDep, who: AuditedAdmin) -> Any:
    campaign = campaigns.create_campaign(session, body)
    detail = body.model_dump(mode="json")
    cid = campaign.campaign_id
    audit.record(session, who.actor, "campaign.create", "campaign", cid, detail, who.source)
    session.commit()
    return _detail(session, campaign.campaign_id)


@router.get("/{campaign_id}", response_model=CampaignDetail)
def get_campaign(campaign_id: IdPath, session: SessionDep, _: Reader) -> Any:
    return _detail(session, campaign_id)


@router.post("/{campaign_id}/targets", response_model=CampaignDetail)
def add_targets(
    campaign_id: IdPath, body: CampaignTargetsIn, session: SessionDep, who: AuditedAdmin
) -> Any:
    added = campaigns.add_targets(session, campaign_id, body.target_ids)
    detail = audit.membership_detail(body.target_ids, added)
    audit.record(
        session, who.actor, "campaign.add_targets", "campaign", campaign_id, detail, who.source
    )
    session.commit()
    return _detail(session, campaign_id)
