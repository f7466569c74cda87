"""The site-nights some targets were observed in, with every observation made in them.

Data-quality checks look at whole nights of a site (all its targets), not only at the targets a
light-curve run rebuilt: a bad zero point is a property of the night and the telescope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from datas_core.db.models import Observation, Site
from datas_core.lightcurves.quality import night_names

_CHUNK = 500


@dataclass(frozen=True)
class NightSample:
    site_id: NDArray[np.str_]
    night: NDArray[np.str_]
    filter: NDArray[np.str_]
    zero_point: NDArray[np.float64]
    flagged: NDArray[np.bool_]

    @property
    def size(self) -> int:
        return int(self.site_id.size)


def _nights(rows: list[tuple[str, datetime, float]]) -> list[str]:
    unix = [r[1].timestamp() for r in rows]
    lon = [r[2] for r in rows]
    return [str(n) for n in night_names(unix, lon)]


def _night_bounds(night: str, longitude_deg: float) -> tuple[datetime, datetime]:
    """UTC interval of one named night: local mean noon to the next local mean noon."""
    day = float(np.datetime64(night, "D").astype("int64"))
    start = day * 86400.0 + 43200.0 - longitude_deg * 240.0
    return (
        datetime.fromtimestamp(start, timezone.utc),
        datetime.fromtimestamp(start + 86400.0, timezone.utc),
    )


def touched_site_nights(session: Session, target_ids: Iterable[int]) -> set[tuple[str, str]]:
    ids = sorted(set(target_ids))
    pairs: set[tuple[str, str]] = set()
    for start in range(0, len(ids), _CHUNK):
        rows: list[tuple[str, datetime, float]] = [
            (r[0], r[1], r[2])
            for r in session.execute(
                select(Observation.site_id, Observation.observed_at, Site.longitude)
                .join(Site, Site.site_id == Observation.site_id)
                .where(Observation.target_id.in_(ids[start : start + _CHUNK]))
            )
        ]
        pairs.update(zip([r[0] for r in rows], _nights(rows), strict=True))
    return pairs


def night_sample(session: Session, target_ids: Iterable[int]) -> NightSample:
    """Every observation (any target) in the site-nights where these targets were observed."""
    pairs = touched_site_nights(session, target_ids)
    by_site: dict[str, list[str]] = {}
    for site_id, night in pairs:
        by_site.setdefault(site_id, []).append(night)
    columns: list[list[object]] = [[], [], [], [], []]
    for site_id, nights in sorted(by_site.items()):
        longitude = session.scalar(select(Site.longitude).where(Site.site_id == site_id)) or 0.0
        begin = _night_bounds(min(nights), longitude)[0]
        end = _night_bounds(max(nights), longitude)[1]
        rows = session.execute(
            select(
                Observation.observed_at,
                Observation.filter,
                Observation.zero_point,
                Observation.quality_flags,
            )
            .where(Observation.site_id == site_id)
            .where(Observation.observed_at >= begin, Observation.observed_at < end)
        ).all()
        if not rows:
            continue
        named = night_names([r[0].timestamp() for r in rows], longitude)
        wanted = set(nights)
        for row, night in zip(rows, named, strict=True):
            if str(night) not in wanted:
                continue
            columns[0].append(site_id)
            columns[1].append(str(night))
            columns[2].append(row[1] or "none")
            columns[3].append(np.nan if row[2] is None else row[2])
            columns[4].append(bool(row[3]))
    return NightSample(
        site_id=np.array(columns[0], dtype=str),
        night=np.array(columns[1], dtype=str),
        filter=np.array(columns[2], dtype=str),
        zero_point=np.array(columns[3], dtype=float),
        flagged=np.array(columns[4], dtype=bool),
    )
