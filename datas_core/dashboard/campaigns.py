"""Campaign progress: observations against each target's `total_needed`, contributing sites,
and coverage per day. All counts are SQL aggregates over the campaign's members."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from datas_core.db.models import Campaign, CampaignTarget, Observation, Site, Target
from datas_core.errors import NotFound

COVERAGE_DAYS = 30
LIST_LIMIT = 50
TARGETS_PAGE = 100


def _utc_day(session: Session, column: Any) -> Any:
    """The UTC calendar day of a timestamp column, as SQL (SQLite stores UTC text)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _per_target(campaign_ids: list[int], with_sites: bool = False) -> Any:
    """One row per (campaign, member target): observation count (from the (target_id,
    observed_at) index alone), and with_sites the distinct sites (reads the rows)."""
    columns = [
        CampaignTarget.campaign_id,
        CampaignTarget.target_id,
        Target.total_needed,
        func.count(Observation.observed_at).label("n"),
        func.max(Observation.observed_at).label("last"),
    ]
    if with_sites:
        columns.append(func.count(distinct(Observation.site_id)).label("sites"))
    return (
        select(*columns)
        .join(Target, Target.target_id == CampaignTarget.target_id)
        .outerjoin(Observation, Observation.target_id == CampaignTarget.target_id)
        .where(CampaignTarget.campaign_id.in_(campaign_ids))
        .group_by(CampaignTarget.campaign_id, CampaignTarget.target_id, Target.total_needed)
    )


def _coverage(
    session: Session, campaign_ids: list[int], now: datetime
) -> dict[int, list[tuple[str, int]]]:
    since = now - timedelta(days=COVERAGE_DAYS)
    day = _utc_day(session, Observation.observed_at)
    rows = session.execute(
        select(CampaignTarget.campaign_id, day.label("day"), func.count())
        .join(Observation, Observation.target_id == CampaignTarget.target_id)
        .where(CampaignTarget.campaign_id.in_(campaign_ids), Observation.observed_at >= since)
        .group_by(CampaignTarget.campaign_id, day)
    ).all()
    days = [str((since + timedelta(days=i + 1)).date()) for i in range(COVERAGE_DAYS)]
    counts: dict[int, dict[str, int]] = {}
    for cid, d, n in rows:
        counts.setdefault(cid, {})[str(d)] = int(n)
    return {cid: [(d, counts.get(cid, {}).get(d, 0)) for d in days] for cid in campaign_ids}


def campaign_list(session: Session, now: datetime) -> list[dict[str, Any]]:
    campaigns = list(
        session.scalars(
            select(Campaign)
            .order_by(Campaign.active.desc(), Campaign.created_at.desc())
            .limit(LIST_LIMIT)
        )
    )
    ids = [c.campaign_id for c in campaigns]
    if not ids:
        return []
    per = _per_target(ids).subquery()
    capped = case((per.c.n < per.c.total_needed, per.c.n), else_=per.c.total_needed)
    summary = {
        r.campaign_id: r
        for r in session.execute(
            select(
                per.c.campaign_id,
                func.count().label("targets"),
                func.sum(per.c.n).label("observations"),
                func.sum(per.c.total_needed).label("needed"),
                func.sum(case((per.c.total_needed.is_(None), 0), else_=capped)).label("done"),
                func.sum(case((per.c.n >= per.c.total_needed, 1), else_=0)).label("complete"),
            ).group_by(per.c.campaign_id)
        )
    }
    coverage = _coverage(session, ids, now)
    out = []
    for c in campaigns:
        s = summary.get(c.campaign_id)
        needed = int(s.needed or 0) if s else 0
        done = int(s.done or 0) if s else 0
        out.append(
            {
                "campaign": c,
                "targets": int(s.targets) if s else 0,
                "observations": int(s.observations or 0) if s else 0,
                "needed": needed,
                "done": done,
                "complete": int(s.complete or 0) if s else 0,
                "progress": done / needed if needed else None,
                "coverage": coverage[c.campaign_id],
            }
        )
    return out


def campaign_detail(
    session: Session, campaign_id: int, now: datetime, offset: int = 0
) -> dict[str, Any]:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    per = _per_target([campaign_id], with_sites=True).subquery()
    total = session.scalar(select(func.count()).select_from(per)) or 0
    rows = session.execute(
        select(per, Target.name, Target.priority)
        .join(Target, Target.target_id == per.c.target_id)
        .order_by(Target.priority.desc(), Target.name)
        .limit(TARGETS_PAGE)
        .offset(offset)
    ).all()
    targets = [
        {
            "target_id": r.target_id,
            "name": r.name,
            "priority": r.priority,
            "n": int(r.n),
            "needed": r.total_needed,
            "progress": min(1.0, r.n / r.total_needed) if r.total_needed else None,
            "sites": int(r.sites),
            "last": r.last,
        }
        for r in rows
    ]
    top_sites = session.execute(
        select(Observation.site_id, Site.name, func.count().label("n"))
        .join(CampaignTarget, CampaignTarget.target_id == Observation.target_id)
        .join(Site, Site.site_id == Observation.site_id)
        .where(CampaignTarget.campaign_id == campaign_id)
        .group_by(Observation.site_id, Site.name)
        .order_by(func.count().desc())
        .limit(10)
    ).all()
    return {
        "campaign": campaign,
        "targets": targets,
        "total_targets": total,
        "offset": offset,
        "next_offset": offset + TARGETS_PAGE if offset + TARGETS_PAGE < total else None,
        "prev_offset": max(0, offset - TARGETS_PAGE) if offset else None,
        "sites": [{"site_id": s, "name": n, "n": int(c)} for s, n, c in top_sites],
        "coverage": _coverage(session, [campaign_id], now)[campaign_id],
    }
