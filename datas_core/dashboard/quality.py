"""Data quality per site and night: zero point and seeing, flagged share, pipeline failures.

Network-wide figures are SQL aggregates per site over the window (one pass on the
observed_at index). Per-night medians and the robust zero-point scatter need every value, so
they are computed for a few sites only (the busiest, or the one asked for), from their own
(site_id, observed_at) ranges. Nights are named as in datas_core.lightcurves.quality (the
local date of the evening).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from datas_core.db.models import Frame, Observation, Site
from datas_core.lightcurves.quality import night_names, robust_std

SITES_SHOWN = 200
NIGHT_ROWS = 300
PLOT_SITES = 8
MAX_SITE_ROWS = 50_000  # per-night detail reads at most this many observations
FAILURES_SHOWN = 50
FRAME_STATES = ("received", "reducing", "reduced", "failed", "rejected")


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None  # small lists: no numpy


def _flagged() -> Any:
    return case((func.json_array_length(Observation.quality_flags) > 0, 1), else_=0)


def per_site(session: Session, since: datetime) -> list[dict[str, Any]]:
    """Every site with observations in the window: n, flagged share, mean zero point and seeing."""
    n = func.count().label("n")
    rows = session.execute(
        select(
            Observation.site_id,
            Site.name,
            n,
            func.sum(_flagged()).label("flagged"),
            func.avg(Observation.zero_point).label("zero_point"),
            func.avg(Observation.seeing_arcsec).label("seeing"),
        )
        .join(Site, Site.site_id == Observation.site_id)
        .where(Observation.observed_at >= since)
        .group_by(Observation.site_id, Site.name)
    ).all()
    out = [
        {
            "site_id": r.site_id,
            "name": r.name,
            "n": int(r.n),
            "flagged": int(r.flagged or 0),
            "flagged_share": int(r.flagged or 0) / int(r.n),
            "zero_point": None if r.zero_point is None else float(r.zero_point),
            "seeing": None if r.seeing is None else float(r.seeing),
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["flagged_share"], -r["n"]))


def nights_of(session: Session, site_ids: list[str], since: datetime) -> list[dict[str, Any]]:
    """Per (site, night, filter): n, flagged, median zero point, robust scatter, median seeing."""
    if not site_ids:
        return []
    rows = session.execute(
        select(
            Observation.site_id,
            Observation.observed_at,
            Observation.filter,
            Observation.zero_point,
            Observation.seeing_arcsec,
            _flagged(),
            Site.longitude,
        )
        .join(Site, Site.site_id == Observation.site_id)
        .where(Observation.site_id.in_(site_ids), Observation.observed_at >= since)
        .order_by(Observation.observed_at.desc())
        .limit(MAX_SITE_ROWS)
    ).all()
    nights: list[str] = []
    if rows:
        nights = night_names([r[1].timestamp() for r in rows], [r[6] for r in rows]).tolist()
    zp: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    seeing: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    count: dict[tuple[str, str, str], int] = defaultdict(int)
    flags: dict[tuple[str, str, str], int] = defaultdict(int)
    for r, night in zip(rows, nights, strict=True):
        key = (r[0], str(night), r[2] or "none")
        count[key] += 1
        flags[key] += int(r[5])
        if r[3] is not None:
            zp[key].append(r[3])
        if r[4] is not None:
            seeing[key].append(r[4])
    return [
        {
            "site_id": key[0],
            "night": key[1],
            "filter": key[2],
            "n": count[key],
            "flagged": flags[key],
            "flagged_share": flags[key] / count[key],
            "zero_point": _median(zp[key]),
            "zp_scatter": robust_std(zp[key]) if len(zp[key]) >= 3 else None,
            "seeing": _median(seeing[key]),
        }
        for key in sorted(count, key=lambda k: (k[1], k[0], k[2]), reverse=True)
    ]


def site_nights(
    session: Session, now: datetime, days: int, site_id: str | None = None
) -> dict[str, Any]:
    since = now - timedelta(days=days)
    sites = per_site(session, since)
    if site_id:
        plotted = [site_id]
    else:
        plotted = [s["site_id"] for s in sorted(sites, key=lambda s: -s["n"])[:PLOT_SITES]]
    nights = nights_of(session, plotted, since)
    counted = [s for s in sites if s["site_id"] == site_id] if site_id else sites
    n_all = sum(s["n"] for s in counted)
    flagged = sum(s["flagged"] for s in counted)
    return {
        "days": days,
        "sites": sites[:SITES_SHOWN],
        "sites_total": len(sites),
        "nights": nights[:NIGHT_ROWS],
        "nights_total": len(nights),
        "plot": nights,
        "plot_sites": plotted,
        "observations": n_all,
        "flagged": flagged,
        "flagged_share": flagged / n_all if n_all else None,
    }


def pipeline_failures(session: Session, now: datetime, days: int) -> dict[str, Any]:
    since = now - timedelta(days=days)
    # One range count per state on the (status, uploaded_at) index.
    counts = {
        state: session.scalar(
            select(func.count())
            .select_from(Frame)
            .where(Frame.status == state, Frame.uploaded_at >= since)
        )
        or 0
        for state in FRAME_STATES
    }
    # Newest of each state from its own (status, uploaded_at) range, merged: no sort of all.
    latest = sorted(
        (
            frame
            for state in ("failed", "rejected")
            for frame in session.scalars(
                select(Frame)
                .where(Frame.status == state)
                .order_by(Frame.uploaded_at.desc())
                .limit(FAILURES_SHOWN)
            )
        ),
        key=lambda f: f.uploaded_at,
        reverse=True,
    )[:FAILURES_SHOWN]
    reasons: dict[str, int] = defaultdict(int)
    for f in latest:
        reasons[(f.error or "no reason recorded").split(":")[0][:80]] += 1
    return {"counts": counts, "latest": latest, "reasons": sorted(reasons.items())}
