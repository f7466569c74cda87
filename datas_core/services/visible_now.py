"""Interim per-site ranking: active targets above the site's altitude limit now, by priority.

The full scheduler (scores, weather, network assignment) replaces the ranking rule later; the
cached catalog arrays stay, because every request needs them and reloading 10k rows per request
would dominate latency. The cache reloads when the catalog version counter moves.
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session

from datas_core.db.models import Campaign, CampaignTarget, Site, Target, TargetAlias
from datas_core.errors import NotFound
from datas_core.schemas.targets import TargetOut
from datas_core.services import catalog_version
from datas_core.sky.altaz import ApparentPlaces, airmass, horizon_limit_deg
from datas_core.sky.time import julian_date

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
    _places: ApparentPlaces | None = None

    def places(self, when: datetime) -> ApparentPlaces:
        """Positions of date, recomputed when more than a day old (precession is slow)."""
        places = self._places
        if places is None or abs(float(julian_date(when)) - places.jd) > 1.0:
            places = ApparentPlaces.of(self.ra_deg, self.dec_deg, when)
            self._places = places
        return places


_TARGET_ROWS = TypeAdapter(list[TargetOut])
_WIRE_COLUMNS = [c for c in Target.__table__.columns if c.key in TargetOut.model_fields]


def load_snapshot(session: Session) -> CatalogSnapshot:
    """Active targets as arrays plus their wire rows (column selects: ~10x faster than ORM)."""
    version = catalog_version.current(session)
    records = [
        dict(r._mapping)
        for r in session.execute(
            select(*_WIRE_COLUMNS).where(Target.active.is_(True)).order_by(Target.target_id)
        )
    ]
    index = {rec["target_id"]: i for i, rec in enumerate(records)}
    for rec in records:
        rec["aliases"] = []
    for target_id, alias, source in session.execute(
        select(TargetAlias.target_id, TargetAlias.alias, TargetAlias.source)
    ):
        if target_id in index:
            records[index[target_id]]["aliases"].append({"alias": alias, "source": source})
    members: dict[int, NDArray[np.bool_]] = {}
    for campaign_id, target_id in session.execute(
        select(CampaignTarget.campaign_id, CampaignTarget.target_id)
    ):
        if target_id in index:
            mask = members.setdefault(campaign_id, np.zeros(len(records), dtype=bool))
            mask[index[target_id]] = True
    names = {
        name: cid for name, cid in session.execute(select(Campaign.name, Campaign.campaign_id))
    }
    return CatalogSnapshot(
        version=version,
        target_ids=np.array([r["target_id"] for r in records], dtype=np.int64),
        ra_deg=np.array([r["ra_deg"] for r in records], dtype=float),
        dec_deg=np.array([r["dec_deg"] for r in records], dtype=float),
        priority=np.array([r["priority"] for r in records], dtype=float),
        expires_unix=np.array(
            [r["expires_at"].timestamp() if r["expires_at"] else np.inf for r in records],
            dtype=float,
        ),
        rows=_TARGET_ROWS.dump_python(_TARGET_ROWS.validate_python(records), mode="json"),
        campaign_members=members,
        campaign_ids_by_name=names,
    )


class CatalogCache:
    """One snapshot per process, refreshed when the catalog version in the database changes."""

    def __init__(self, recheck_seconds: float = 1.0) -> None:
        self._snapshot: CatalogSnapshot | None = None
        self._lock = threading.Lock()
        # The version is asked at most this often: a new or boosted target shows up within it.
        self.recheck_seconds = recheck_seconds
        self._checked_at = -float("inf")

    def get(self, session: Session) -> CatalogSnapshot:
        snap = self._snapshot
        now = time.monotonic()
        if snap is not None and now - self._checked_at < self.recheck_seconds:
            return snap
        version = catalog_version.current(session)
        self._checked_at = now
        if snap is not None and snap.version == version:
            return snap
        with self._lock:
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = load_snapshot(session)
                # The snapshot is long-lived: keep the cyclic GC from rescanning it on every pass.
                gc.collect()
                gc.freeze()
            return self._snapshot


@dataclass(frozen=True)
class SiteGeometry:
    """What ranking needs of a site."""

    site_id: str
    latitude: float
    longitude: float
    altitude_limit_deg: float
    horizon: list[list[float]] | None


def site_geometry(session: Session, site_id: str) -> SiteGeometry:
    row = session.execute(
        select(
            Site.site_id, Site.latitude, Site.longitude, Site.altitude_limit_deg, Site.horizon
        ).where(Site.site_id == site_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"site {site_id!r} does not exist; list sites with GET /api/v1/sites")
    return SiteGeometry(*row)


def rank_visible_now(
    snapshot: CatalogSnapshot,
    site: SiteGeometry,
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
    places = snapshot.places(when)
    alt = places.altitude_deg(site.latitude, site.longitude, when)
    if site.horizon:  # azimuth only matters when the site has a horizon profile
        az_all = places.azimuth_deg(site.latitude, site.longitude, when)
        limit = horizon_limit_deg(az_all, site.altitude_limit_deg, site.horizon)
    else:
        limit = np.full(n, site.altitude_limit_deg)
    drop("below_altitude_limit", alt < limit)

    candidates = np.flatnonzero(keep)
    # Highest priority first; among equals the higher target (lower airmass) first.
    order = candidates[np.lexsort((-alt[candidates], -snapshot.priority[candidates]))]
    page = order[offset : offset + count]
    x = airmass(alt[page])
    az = np.zeros(n)
    az[page] = places.subset(page).azimuth_deg(site.latitude, site.longitude, when)
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
