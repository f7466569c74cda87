"""Interim per-site ranking: active targets above the site's altitude limit now, by priority.

The full scheduler (scores, weather, network assignment) replaces the ranking rule later; the
cached catalog arrays stay, because every request needs them and reloading 10k rows per request
would dominate latency. The cache reloads when the catalog version counter moves.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from datas_core.db.models import Campaign, CampaignTarget, Site, Target
from datas_core.schemas.targets import TargetOut
from datas_core.services import catalog_version
from datas_core.sky.altaz import airmass, altaz_deg, horizon_limit_deg

RANKING_NAME = "interim: priority among targets above the altitude limit now"


@dataclass
class CatalogSnapshot:
    version: int
    target_ids: NDArray[np.int64]
    ra_deg: NDArray[np.float64]
    dec_deg: NDArray[np.float64]
    priority: NDArray[np.float64]
    expires_unix: NDArray[np.float64]  # +inf when the target never expires
    rows: list[dict[str, Any]]  # serialized TargetOut, same order as the arrays
    campaign_members: dict[int, NDArray[np.bool_]] = field(default_factory=dict)
    campaign_ids_by_name: dict[str, int] = field(default_factory=dict)


def load_snapshot(session: Session) -> CatalogSnapshot:
    version = catalog_version.current(session)
    targets = list(
        session.scalars(select(Target).where(Target.active.is_(True)).order_by(Target.target_id))
    )
    ids = np.array([t.target_id for t in targets], dtype=np.int64)
    index = {tid: i for i, tid in enumerate(ids.tolist())}
    members: dict[int, NDArray[np.bool_]] = {}
    for campaign_id, target_id in session.execute(
        select(CampaignTarget.campaign_id, CampaignTarget.target_id)
    ):
        if target_id in index:
            mask = members.setdefault(campaign_id, np.zeros(len(ids), dtype=bool))
            mask[index[target_id]] = True
    names = {
        name: cid for name, cid in session.execute(select(Campaign.name, Campaign.campaign_id))
    }
    return CatalogSnapshot(
        version=version,
        target_ids=ids,
        ra_deg=np.array([t.ra_deg for t in targets], dtype=float),
        dec_deg=np.array([t.dec_deg for t in targets], dtype=float),
        priority=np.array([t.priority for t in targets], dtype=float),
        expires_unix=np.array(
            [t.expires_at.timestamp() if t.expires_at else np.inf for t in targets], dtype=float
        ),
        rows=[TargetOut.model_validate(t).model_dump(mode="json") for t in targets],
        campaign_members=members,
        campaign_ids_by_name=names,
    )


class CatalogCache:
    """One snapshot per process, refreshed when the catalog version in the database changes."""

    def __init__(self) -> None:
        self._snapshot: CatalogSnapshot | None = None
        self._lock = threading.Lock()

    def get(self, session: Session) -> CatalogSnapshot:
        version = catalog_version.current(session)
        snap = self._snapshot
        if snap is not None and snap.version == version:
            return snap
        with self._lock:
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = load_snapshot(session)
            return self._snapshot


def rank_visible_now(
    snapshot: CatalogSnapshot,
    site: Site,
    *,
    when: datetime | None = None,
    count: int = 20,
    offset: int = 0,
    priority_min: float | None = None,
    campaign_id: int | None = None,
) -> dict[str, Any]:
    """Ranked targets for one site at `when`, with the reason counts for what was left out."""
    when = when or datetime.now(timezone.utc)
    n = len(snapshot.target_ids)
    excluded: dict[str, int] = {}
    keep = np.ones(n, dtype=bool)

    def drop(reason: str, mask: NDArray[np.bool_]) -> None:
        newly = keep & mask
        if newly.any():
            excluded[reason] = int(newly.sum())
        keep[newly] = False

    drop("expired", snapshot.expires_unix <= when.timestamp())
    if priority_min is not None:
        drop("below_priority_min", snapshot.priority < priority_min)
    if campaign_id is not None:
        members = snapshot.campaign_members.get(campaign_id, np.zeros(n, dtype=bool))
        drop("not_in_campaign", ~members)
    alt, az = altaz_deg(snapshot.ra_deg, snapshot.dec_deg, site.latitude, site.longitude, when)
    limit = horizon_limit_deg(az, site.altitude_limit_deg, site.horizon)
    drop("below_altitude_limit", alt < limit)

    candidates = np.flatnonzero(keep)
    # Highest priority first; among equals the higher target (lower airmass) first.
    order = candidates[np.lexsort((-alt[candidates], -snapshot.priority[candidates]))]
    page = order[offset : offset + count]
    x = airmass(alt[page])
    ranked = []
    for rank, (i, am) in enumerate(zip(page.tolist(), x.tolist(), strict=True), start=offset + 1):
        ranked.append(
            {
                **snapshot.rows[i],
                "rank": rank,
                "score": float(snapshot.priority[i]),
                "altitude_deg": round(float(alt[i]), 3),
                "azimuth_deg": round(float(az[i]), 3),
                "airmass": round(am, 4),
                "terms": {"priority": float(snapshot.priority[i])},
            }
        )
    total = len(order)
    nxt = offset + len(page)
    return {
        "site_id": site.site_id,
        "generated_at": when,
        "ranking": RANKING_NAME,
        "excluded": excluded,
        "targets": ranked,
        "total": total,
        "limit": count,
        "offset": offset,
        "next_offset": nxt if nxt < total else None,
    }
