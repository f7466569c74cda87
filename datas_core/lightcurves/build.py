"""A target's light curve from the observations table, with BJD_TDB at mid-exposure.

`observed_at` is the start of the exposure (FITS DATE-OBS, as the site agent reports it); the
light-curve time is the middle: observed_at + exposure_sec / 2 (observed_at when no exposure
time is known). Only observations with a magnitude or a flux are points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from datas_core.db.models import Observation, Site, Target
from datas_core.errors import InvalidInput, NotFound
from datas_core.lightcurves.bjd import bjd_tdb, unix_to_jd

# Columns of a light-curve row, in export order (CSV header, Parquet schema).
COLUMNS = (
    "observation_id",
    "bjd_tdb",
    "jd_utc",
    "observed_at",
    "exposure_sec",
    "filter",
    "magnitude",
    "mag_error",
    "flux",
    "flux_err",
    "zero_point",
    "airmass",
    "site_id",
    "quality_flags",
    "flagged",
    "frame_id",
    "method",
    "pipeline_version",
    "reference_catalog",
)
_COPIED = (
    "observation_id",
    "observed_at",
    "exposure_sec",
    "filter",
    "magnitude",
    "mag_error",
    "flux",
    "flux_err",
    "zero_point",
    "airmass",
    "site_id",
    "frame_id",
    "method",
    "pipeline_version",
    "reference_catalog",
    "comparison_stars",
)


@dataclass(frozen=True)
class LightCurveQuery:
    """Which points: one filter, one site, an observed_at window [after, before), unflagged only,
    and a page (limit None: every point)."""

    filter: str | None = None
    site_id: str | None = None
    after: datetime | None = None
    before: datetime | None = None
    good_only: bool = False
    limit: int | None = None
    offset: int = 0


@dataclass
class LightCurve:
    target_id: int
    name: str
    ra_deg: float
    dec_deg: float
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    limit: int | None = None

    @property
    def next_offset(self) -> int | None:
        nxt = self.offset + len(self.rows)
        return nxt if nxt < self.total else None

    @property
    def filters(self) -> list[str]:
        return sorted({r["filter"] for r in self.rows if r["filter"] is not None})


def _statement(target_id: int, query: LightCurveQuery) -> Select[Observation, float, float, float]:
    if query.after and query.before and query.before <= query.after:
        raise InvalidInput("'before' must be later than 'after'")
    stmt = (
        select(Observation, Site.latitude, Site.longitude, Site.elevation_m)
        .join(Site, Site.site_id == Observation.site_id)
        .where(Observation.target_id == target_id)
        .where(or_(Observation.magnitude.is_not(None), Observation.flux.is_not(None)))
    )
    if query.filter is not None:
        stmt = stmt.where(Observation.filter == query.filter)
    if query.site_id is not None:
        stmt = stmt.where(Observation.site_id == query.site_id)
    if query.after is not None:
        stmt = stmt.where(Observation.observed_at >= query.after)
    if query.before is not None:
        stmt = stmt.where(Observation.observed_at < query.before)
    if query.good_only:
        flags = Observation.quality_flags
        stmt = stmt.where(or_(flags.is_(None), func.json_array_length(flags) == 0))
    return stmt


def load_light_curve(
    session: Session, target_id: int, query: LightCurveQuery | None = None
) -> LightCurve:
    """The target's points in time order, with BJD_TDB; NotFound for an unknown target."""
    query = query or LightCurveQuery()
    if query.limit is not None and query.limit < 1:
        raise InvalidInput(f"limit must be 1 or more (got {query.limit})")
    if query.offset < 0:
        raise InvalidInput(f"offset must be 0 or more (got {query.offset})")
    target = session.get(Target, target_id)
    if target is None:
        raise NotFound(f"no target with target_id {target_id}; list them at GET /api/v1/targets")
    stmt = _statement(target_id, query)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    stmt = stmt.order_by(Observation.observed_at, Observation.observation_id).offset(query.offset)
    if query.limit is not None:
        stmt = stmt.limit(query.limit)
    found = session.execute(stmt).all()
    curve = LightCurve(
        target_id=target.target_id,
        name=target.name,
        ra_deg=target.ra_deg,
        dec_deg=target.dec_deg,
        total=total,
        offset=query.offset,
        limit=query.limit,
    )
    curve.rows = _rows(target, found)
    return curve


def _rows(target: Target, found: Sequence[Any]) -> list[dict[str, Any]]:
    if not found:
        return []
    obs = [r[0] for r in found]
    start = np.array([o.observed_at.timestamp() for o in obs])
    exposure = np.array([o.exposure_sec or 0.0 for o in obs])
    mid = start + exposure / 2.0
    site = np.array([(r[1], r[2], r[3] or 0.0) for r in found], dtype=float)
    bjd = bjd_tdb(mid, target.ra_deg, target.dec_deg, site[:, 0], site[:, 1], site[:, 2])
    jd1, jd2 = unix_to_jd(mid)
    jd = jd1 + jd2
    rows = []
    for i, o in enumerate(obs):
        row = {name: getattr(o, name) for name in _COPIED}
        flags = list(o.quality_flags or [])
        row.update(
            bjd_tdb=float(bjd[i]),
            jd_utc=float(jd[i]),
            quality_flags=flags,
            flagged=bool(flags),
            comparison_stars=list(o.comparison_stars or []),
        )
        rows.append(row)
    return rows
