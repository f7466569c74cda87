"""One target: coordinates, aliases, alerts, its light curve (compact, for plotting), tonight's
altitude at chosen sites, and why each site's stored ranking places it where it does."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from datas_core.dashboard.ranking_index import index_for
from datas_core.db.models import Observation, RawAlert, Site, SiteRanking, Target
from datas_core.errors import NotFound
from datas_core.lightcurves import bjd_tdb
from datas_core.sky.altaz import ApparentPlaces
from datas_core.sky.night import tonight
from datas_core.sky.time import JD_UNIX_EPOCH, julian_date, local_sidereal_time_deg

MAX_POINTS = 3000  # the most recent points are plotted; exports carry all of them
_DECODER = json.JSONDecoder()
MAX_ALT_SITES = 6
ALT_STEP_MINUTES = 10
RANKING_SITES = 50


def search_targets(session: Session, q: str | None, limit: int = 50) -> list[Target]:
    stmt = select(Target).order_by(Target.active.desc(), Target.priority.desc(), Target.name)
    if q:
        pattern = f"%{q.strip()}%"
        # SQLite's LIKE already ignores ASCII case (its ilike wraps both sides in lower()).
        sqlite = session.get_bind().dialect.name == "sqlite"
        stmt = stmt.where(Target.name.like(pattern) if sqlite else Target.name.ilike(pattern))
    return list(session.scalars(stmt.limit(limit)))


def light_curve_columns(session: Session, target_id: int) -> dict[str, Any]:
    """The latest MAX_POINTS points with a magnitude, as columns (small JSON): BJD_TDB at
    mid-exposure (datas_core.lightcurves.bjd, as the light-curve exports), magnitude, error,
    band and site indexes, flags, ids. Plain columns from the (target_id, observed_at) index."""
    has_mag = (Observation.target_id == target_id, Observation.magnitude.is_not(None))
    total = session.scalar(select(func.count()).select_from(Observation).where(*has_mag)) or 0
    rows = session.execute(
        select(
            Observation.observed_at,
            Observation.exposure_sec,
            Observation.filter,
            Observation.magnitude,
            Observation.mag_error,
            Observation.site_id,
            cast(Observation.quality_flags, Text).label("flags"),  # parsed only when flagged
            Site.latitude,
            Site.longitude,
            Site.elevation_m,
        )
        .join(Site, Site.site_id == Observation.site_id)
        .where(*has_mag)
        .order_by(Observation.observed_at.desc())
        .limit(MAX_POINTS)
    ).all()[::-1]
    bands = sorted({r.filter or "none" for r in rows})
    sites = sorted({r.site_id for r in rows})
    band_ix = {b: i for i, b in enumerate(bands)}
    site_ix = {s: i for i, s in enumerate(sites)}
    bjd: list[float] = []
    if rows:
        target = session.get(Target, target_id)
        assert target is not None
        mid = np.array([r.observed_at.timestamp() + (r.exposure_sec or 0.0) / 2 for r in rows])
        place = np.array([(r.latitude, r.longitude, r.elevation_m or 0.0) for r in rows])
        times = bjd_tdb(mid, target.ra_deg, target.dec_deg, place[:, 0], place[:, 1], place[:, 2])
        bjd = np.round(times, 6).tolist()
    err = np.array([np.nan if r.mag_error is None else r.mag_error for r in rows])
    return {
        "total": total,
        "shown": len(rows),
        "bands": bands,
        "sites": sites,
        "bjd": bjd,
        "mag": np.round([r.magnitude for r in rows], 4).tolist(),
        "err": [None if e != e else e for e in np.round(err, 4).tolist()],  # NaN -> null
        "band": [band_ix[r.filter or "none"] for r in rows],
        "site": [site_ix[r.site_id] for r in rows],
        "flags": [_flags(r.flags) for r in rows],
    }


def _flags(text: str | None) -> list[str]:
    if not text or text == "[]":
        return []
    value = json.loads(text)
    return [str(v) for v in value] if isinstance(value, list) else []


def _entry_in(text: str | None, target_id: int) -> dict[str, Any] | None:
    """The list entry (a JSON object) naming target_id, decoded alone: a site's whole list is
    ~30 KB of JSON, the entry ~600 bytes."""
    if not text:
        return None
    for match in re.finditer(rf'"target_id":\s*{target_id}\b', text):
        start = text.rfind("{", 0, match.start())
        try:
            entry, _ = _DECODER.raw_decode(text, start)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("target_id") == target_id:
            return entry
    return None


def rankings_for(session: Session, target_id: int) -> dict[str, Any]:
    """The sites whose stored list serves this target (best rank first) or excludes it, with the
    entry's score terms; only those lists are read (see ranking_index)."""
    served_at, excluded_at = index_for(session).lookup(session, target_id)
    rank_at = {site_id: rank for rank, site_id in served_at[:RANKING_SITES]}
    served: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    wanted = sorted(set(rank_at) | set(excluded_at[:RANKING_SITES]))
    if wanted:
        rows = session.execute(
            select(
                SiteRanking.site_id,
                Site.name,
                SiteRanking.computed_at,
                cast(SiteRanking.entries, Text),
                cast(SiteRanking.excluded, Text),
            )
            .join(Site, Site.site_id == SiteRanking.site_id)
            .where(SiteRanking.site_id.in_(wanted))
        ).all()
        for site_id, name, computed_at, entries, left_out in rows:
            entry = _entry_in(entries, target_id) if site_id in rank_at else None
            if entry is not None:
                rank = entry.get("rank", rank_at[site_id])
                served.append(
                    {
                        "site_id": site_id,
                        "site_name": name,
                        "computed_at": computed_at,
                        "rank": rank,
                        "entry": entry,
                    }
                )
            reason = _entry_in(left_out, target_id)
            if reason is not None:
                excluded.append({"site_id": site_id, "site_name": name, **reason})
    served.sort(key=lambda s: (s["rank"], s["site_id"]))
    return {"served": served, "excluded": excluded, "served_total": len(served_at)}


def altitude_curves(target: Target, sites: list[Site], now: datetime) -> dict[str, Any]:
    """Altitude every ALT_STEP_MINUTES over tonight at each site, with each site's dark
    interval (Sun below -12 deg): the window spans the chosen sites' nights, at most 24 h."""
    if not sites:
        return {"sites": [], "start": None, "end": None}
    lat = np.array([s.latitude for s in sites])
    lon = np.array([s.longitude for s in sites])
    jd_now = float(julian_date(now))
    nights = tonight(jd_now, lat, lon, -12.0)
    starts = nights.start_jd[np.isfinite(nights.start_jd)]
    ends = nights.end_jd[np.isfinite(nights.end_jd)]
    start = float(starts.min()) - 1 / 24 if starts.size else jd_now
    end = float(ends.max()) + 1 / 24 if ends.size else jd_now + 1
    end = min(end, start + 1.0)
    step = ALT_STEP_MINUTES / 1440.0
    jd = np.arange(start, end + step / 2, step)
    places = ApparentPlaces.of([target.ra_deg], [target.dec_deg], now)
    lst = np.radians(local_sidereal_time_deg(jd[None, :], lon[:, None]))
    ha = lst - places.ra_rad[0]
    la = np.radians(lat)[:, None]
    sin_alt = np.sin(la) * places.sin_dec[0] + np.cos(la) * places.cos_dec[0] * np.cos(ha)
    alt = np.degrees(np.arcsin(np.clip(sin_alt, -1, 1)))
    unix = (jd - JD_UNIX_EPOCH) * 86400.0
    out = []
    for i, s in enumerate(sites):
        dark = None
        if np.isfinite(nights.start_jd[i]) and np.isfinite(nights.end_jd[i]):
            dark = [
                (float(nights.start_jd[i]) - JD_UNIX_EPOCH) * 86400.0,
                (float(nights.end_jd[i]) - JD_UNIX_EPOCH) * 86400.0,
            ]
        out.append(
            {
                "site_id": s.site_id,
                "name": s.name,
                "limit": s.altitude_limit_deg,
                "alt": [round(float(a), 2) for a in alt[i]],
                "dark": dark,
            }
        )
    return {
        "t": [round(float(u)) for u in unix],
        "now": now.timestamp(),
        "sites": out,
    }


def target_detail(
    session: Session, target_id: int, now: datetime, site_ids: list[str] | None = None
) -> dict[str, Any]:
    target = session.get(Target, target_id)
    if target is None:
        raise NotFound(f"target {target_id} does not exist")
    alerts = list(
        session.scalars(
            select(RawAlert)
            .where(RawAlert.target_id == target_id)
            .order_by(RawAlert.received_at.desc())
            .limit(20)
        )
    )
    ranking = rankings_for(session, target_id)
    if not site_ids:  # the sites that rank it best, else a few active sites
        site_ids = [s["site_id"] for s in ranking["served"][:3]]
    chosen: list[Site] = []
    if site_ids:
        found = {
            s.site_id: s
            for s in session.scalars(select(Site).where(Site.site_id.in_(site_ids[:MAX_ALT_SITES])))
        }
        chosen = [found[i] for i in site_ids[:MAX_ALT_SITES] if i in found]
    if not chosen:
        chosen = list(
            session.scalars(
                select(Site).where(Site.active.is_(True)).order_by(Site.site_id).limit(3)
            )
        )
    alerts_total = session.scalar(
        select(func.count()).select_from(RawAlert).where(RawAlert.target_id == target_id)
    )
    return {
        "target": target,
        "aliases": sorted(target.aliases, key=lambda a: a.alias),
        "alerts": alerts,
        "alerts_total": alerts_total or 0,
        "curve": light_curve_columns(session, target_id),
        "altitude": altitude_curves(target, chosen, now),
        "chosen_sites": [s.site_id for s in chosen],
        "ranking": ranking,
    }
