"""Campaigns and their target membership."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datas_core.db.models import Campaign, CampaignTarget, Target
from datas_core.errors import Conflict, InvalidInput, NotFound
from datas_core.schemas.campaigns import CampaignCreate
from datas_core.services import catalog_version
from datas_core.services.paging import Page, paginate


def create_campaign(session: Session, item: CampaignCreate) -> Campaign:
    clash = session.scalar(select(Campaign.campaign_id).where(Campaign.name == item.name))
    if clash:
        raise Conflict(f"a campaign named {item.name!r} already exists (campaign_id {clash})")
    campaign = Campaign(**item.model_dump())
    session.add(campaign)
    catalog_version.bump(session)
    session.flush()
    return campaign


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(
            f"campaign {campaign_id} does not exist; list campaigns with GET /api/v1/campaigns"
        )
    return campaign


def find_campaign(session: Session, ref: str) -> Campaign:
    """By id or by name."""
    if ref.isdigit():
        return get_campaign(session, int(ref))
    campaign = session.scalar(select(Campaign).where(Campaign.name == ref))
    if campaign is None:
        raise NotFound(f"no campaign with id or name {ref!r}")
    return campaign


def add_targets(session: Session, campaign_id: int, target_ids: Sequence[int]) -> int:
    """Add targets (already-members are skipped). Unknown target ids reject the whole request."""
    get_campaign(session, campaign_id)
    wanted = sorted(set(target_ids))
    known: set[int] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        known.update(session.scalars(select(Target.target_id).where(Target.target_id.in_(chunk))))
    missing = [t for t in wanted if t not in known]
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
        raise InvalidInput(f"unknown target_id(s): {shown}; nothing was added")
    members = set(
        session.scalars(
            select(CampaignTarget.target_id).where(CampaignTarget.campaign_id == campaign_id)
        )
    )
    new = [t for t in wanted if t not in members]
    session.add_all(CampaignTarget(campaign_id=campaign_id, target_id=t) for t in new)
    if new:
        catalog_version.bump(session)
    session.flush()
    return len(new)


def list_campaigns(
    session: Session, *, limit: int = 100, offset: int = 0
) -> tuple[Page[Campaign], dict[int, int]]:
    page = paginate(session, select(Campaign).order_by(Campaign.campaign_id), limit, offset)
    return page, target_counts(session, [c.campaign_id for c in page.items])


def target_counts(session: Session, campaign_ids: Sequence[int]) -> dict[int, int]:
    if not campaign_ids:
        return {}
    rows = session.execute(
        select(CampaignTarget.campaign_id, func.count())
        .where(CampaignTarget.campaign_id.in_(campaign_ids))
        .group_by(CampaignTarget.campaign_id)
    )
    return {cid: n for cid, n in rows}


def campaign_target_ids(session: Session, campaign_id: int) -> list[int]:
    return list(
        session.scalars(
            select(CampaignTarget.target_id)
            .where(CampaignTarget.campaign_id == campaign_id)
            .order_by(CampaignTarget.target_id)
        )
    )
