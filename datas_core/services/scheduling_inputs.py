"""Read the scheduler's inputs from the app database (column selects, one query per table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from datas_core.db.models import Campaign, CampaignTarget, Observation, Site, SiteStatus, Target
from datas_core.scheduling.inputs import (
    REDUNDANCY_CODES,
    FilterVocabulary,
    RecentObservations,
    SchedulerConfig,
    SiteArrays,
    TargetArrays,
    build_sites,
    build_targets,
)
from datas_core.scheduling.weather import weather_verdict
from datas_core.services import catalog_version
from datas_core.sky.time import julian_date

_TARGET_COLUMNS = (
    Target.target_id,
    Target.name,
    Target.ra_deg,
    Target.dec_deg,
    Target.target_type,
    Target.classification,
    Target.magnitude,
    Target.priority,
    Target.cadence_hours,
    Target.total_needed,
    Target.max_airmass,
    Target.min_moon_distance_deg,
    Target.max_moon_phase,
    Target.time_critical_start,
    Target.time_critical_end,
    Target.time_critical_boost,
    Target.expires_at,
    Target.filters,
    Target.redundancy,
    Target.exposure_hints,
    Target.updated_at,
)


@dataclass
class NetworkInputs:
    targets: TargetArrays
    sites: SiteArrays
    recent: RecentObservations
    catalog_version: int
    target_rows: list[dict[str, Any]]  # wire fields of each target, same order


def _jd(value: datetime | None) -> float | None:
    return None if value is None else float(julian_date(value))


# Keys of a target's exposure_hints that describe its light; served as the entry's `variability`.
VARIABILITY_HINTS = ("period_days", "epoch_jd", "amplitude_mag", "duration_hours")


def variability_of(hints: dict[str, Any]) -> dict[str, float] | None:
    out = {
        k: float(v)
        for k in VARIABILITY_HINTS
        if isinstance(v := hints.get(k), (int, float)) and not isinstance(v, bool)
    }
    return out or None


def load_targets(
    session: Session, now: datetime, vocabulary: FilterVocabulary, changed_since: datetime | None
) -> tuple[TargetArrays, list[dict[str, Any]]]:
    stmt: Select[Any] = select(*_TARGET_COLUMNS).where(Target.active.is_(True))
    if changed_since is not None:
        stmt = stmt.where(Target.updated_at > changed_since)
    rows = session.execute(stmt.order_by(Target.target_id)).all()
    ids = [r.target_id for r in rows]
    boost, redundancy = _campaign_policies(session, now, ids if changed_since else None)
    observed = _observation_summary(session, ids if changed_since else None)
    red_code = []
    for r in rows:
        name = redundancy.get(r.target_id) or r.redundancy or "diverse"
        red_code.append(REDUNDANCY_CODES.get(name, 0))
    hints = [r.exposure_hints or {} for r in rows]
    arrays = build_targets(
        ids,
        [r.ra_deg for r in rows],
        [r.dec_deg for r in rows],
        vocabulary,
        name=[r.name for r in rows],
        magnitude=[r.magnitude for r in rows],
        priority=[r.priority for r in rows],
        cadence_hours=[r.cadence_hours for r in rows],
        last_observed_jd=[_jd(observed.get(r.target_id, (None, 0))[0]) for r in rows],
        observations_done=[observed.get(r.target_id, (None, 0))[1] for r in rows],
        total_needed=[r.total_needed for r in rows],
        max_airmass=[r.max_airmass for r in rows],
        min_moon_distance_deg=[r.min_moon_distance_deg for r in rows],
        max_moon_phase=[r.max_moon_phase for r in rows],
        tc_start_jd=[_jd(r.time_critical_start) for r in rows],
        tc_end_jd=[_jd(r.time_critical_end) for r in rows],
        tc_boost=[r.time_critical_boost for r in rows],
        expires_jd=[_jd(r.expires_at) for r in rows],
        filters=[list(r.filters or []) for r in rows],
        campaign_boost=[boost.get(r.target_id, 1.0) for r in rows],
        redundancy=red_code,
        min_fov_arcmin=[h.get("min_fov_arcmin") for h in hints],
        updated_jd=[_jd(r.updated_at) for r in rows],
        exposure_hints=hints,
    )
    wire = [
        {
            "target_id": r.target_id,
            "name": r.name,
            "ra_deg": r.ra_deg,
            "dec_deg": r.dec_deg,
            "target_type": r.target_type,
            "classification": r.classification,
            "magnitude": r.magnitude,
            "priority": r.priority,
            "cadence_hours": r.cadence_hours,
            "variability": variability_of(h),
        }
        for r, h in zip(rows, hints, strict=True)
    ]
    return arrays, wire


def _campaign_policies(
    session: Session, now: datetime, ids: list[int] | None
) -> tuple[dict[int, float], dict[int, str]]:
    """Per target: the largest boost and the strongest redundancy of its running campaigns."""
    stmt = (
        select(CampaignTarget.target_id, Campaign.priority_boost, Campaign.redundancy)
        .join(Campaign, Campaign.campaign_id == CampaignTarget.campaign_id)
        .where(
            Campaign.active.is_(True),
            or_(Campaign.starts_at.is_(None), Campaign.starts_at <= now),
            or_(Campaign.ends_at.is_(None), Campaign.ends_at > now),
        )
    )
    if ids is not None:
        stmt = stmt.where(CampaignTarget.target_id.in_(ids))
    boost: dict[int, float] = {}
    redundancy: dict[int, str] = {}
    for target_id, b, red in session.execute(stmt):
        boost[target_id] = max(boost.get(target_id, 1.0), float(b or 1.0))
        if red == "simultaneous" or target_id not in redundancy:
            redundancy[target_id] = red
    return boost, redundancy


def _observation_summary(
    session: Session, ids: list[int] | None
) -> dict[int, tuple[datetime | None, int]]:
    stmt = select(Observation.target_id, func.max(Observation.observed_at), func.count()).group_by(
        Observation.target_id
    )
    if ids is not None:
        stmt = stmt.where(Observation.target_id.in_(ids))
    out: dict[int, tuple[datetime | None, int]] = {}
    for target_id, last, count in session.execute(stmt):
        if isinstance(last, str):  # SQLite aggregates bypass the column type
            last = datetime.fromisoformat(last)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=timezone.utc)
        out[target_id] = (last, int(count))
    return out


@dataclass
class TargetHistory:
    """What observations decide about targets (for re-scoring served lists between rankings)."""

    target_id: NDArray[np.int64]
    cadence_hours: NDArray[np.float64]
    total_needed: NDArray[np.float64]
    redundancy: NDArray[np.uint8]
    last_observed_jd: NDArray[np.float64]
    observations_done: NDArray[np.float64]
    recent_sites: list[frozenset[str]]  # sites that observed it within recent_hours


def load_target_history(
    session: Session, now: datetime, cfg: SchedulerConfig, target_ids: list[int]
) -> TargetHistory:
    """The observing history of some active targets, in four small queries."""
    rows = session.execute(
        select(Target.target_id, Target.cadence_hours, Target.total_needed, Target.redundancy)
        .where(Target.active.is_(True), Target.target_id.in_(target_ids))
        .order_by(Target.target_id)
    ).all()
    ids = [r.target_id for r in rows]
    _, campaign_redundancy = _campaign_policies(session, now, ids)
    observed = _observation_summary(session, ids)
    since = now - timedelta(hours=cfg.recent_hours)
    recent: dict[int, set[str]] = {}
    for site_id, target_id in session.execute(
        select(Observation.site_id, Observation.target_id)
        .where(
            Observation.target_id.in_(ids),
            Observation.observed_at >= since,
            Observation.observed_at <= now,
        )
        .distinct()
    ):
        recent.setdefault(target_id, set()).add(site_id)
    policy = [campaign_redundancy.get(r.target_id) or r.redundancy or "diverse" for r in rows]
    history = [observed.get(i, (None, 0)) for i in ids]
    return TargetHistory(
        target_id=np.array(ids, dtype=np.int64),
        cadence_hours=np.array([_nan(r.cadence_hours) for r in rows], dtype=float),
        total_needed=np.array([_nan(r.total_needed) for r in rows], dtype=float),
        redundancy=np.array([REDUNDANCY_CODES.get(p, 0) for p in policy], dtype=np.uint8),
        last_observed_jd=np.array([_nan(_jd(last)) for last, _ in history], dtype=float),
        observations_done=np.array([count for _, count in history], dtype=float),
        recent_sites=[frozenset(recent.get(i, ())) for i in ids],
    )


def _nan(value: float | None) -> float:
    return np.nan if value is None else float(value)


def load_sites(
    session: Session,
    now: datetime,
    vocabulary: FilterVocabulary,
    stale_minutes: float,
    site_ids: list[str] | None = None,
    assume_clear: bool = False,
) -> SiteArrays:
    heartbeats = select(SiteStatus.site_id, func.max(SiteStatus.id).label("id"))
    if site_ids is not None:  # one site's list: do not group every site's heartbeats
        heartbeats = heartbeats.where(SiteStatus.site_id.in_(site_ids))
    latest = heartbeats.group_by(SiteStatus.site_id).subquery()
    stmt = (
        select(
            Site.site_id,
            Site.latitude,
            Site.longitude,
            Site.altitude_limit_deg,
            Site.horizon,
            Site.ha_limit_east_h,
            Site.ha_limit_west_h,
            Site.filters,
            Site.aperture_mm,
            Site.fov_arcmin,
            Site.limiting_mag,
            Site.reliability,
            SiteStatus.received_at,
            SiteStatus.weather,
            SiteStatus.state,
        )
        .outerjoin(latest, latest.c.site_id == Site.site_id)
        .outerjoin(SiteStatus, SiteStatus.id == latest.c.id)
        .where(Site.active.is_(True))
        .order_by(Site.site_id)
    )
    if site_ids is not None:
        stmt = stmt.where(Site.site_id.in_(site_ids))
    rows = session.execute(stmt).all()
    verdicts = [
        (1.0, None)
        if assume_clear
        else weather_verdict(r.received_at, r.weather, r.state, now, stale_minutes)
        for r in rows
    ]
    return build_sites(
        [r.site_id for r in rows],
        [r.latitude for r in rows],
        [r.longitude for r in rows],
        vocabulary,
        altitude_limit_deg=[r.altitude_limit_deg for r in rows],
        horizon=[r.horizon for r in rows],
        ha_east_h=[r.ha_limit_east_h if r.ha_limit_east_h is not None else 12.0 for r in rows],
        ha_west_h=[r.ha_limit_west_h if r.ha_limit_west_h is not None else 12.0 for r in rows],
        filters=[list(r.filters or []) for r in rows],
        aperture_mm=[r.aperture_mm for r in rows],
        fov_arcmin=[r.fov_arcmin for r in rows],
        limiting_mag=[r.limiting_mag for r in rows],
        weather_factor=[v[0] for v in verdicts],
        weather_reason=[v[1] for v in verdicts],
        reliability=[r.reliability if r.reliability is not None else 1.0 for r in rows],
    )


def load_recent(
    session: Session,
    now: datetime,
    cfg: SchedulerConfig,
    targets: TargetArrays,
    sites: SiteArrays,
    site_ids: list[str] | None = None,
    target_ids: list[int] | None = None,
) -> RecentObservations:
    """(site, target) pairs observed within `recent_hours`, of these sites and targets when
    given (one site's list re-scored needs a few pairs, not the network's)."""
    since = now - timedelta(hours=cfg.recent_hours)
    stmt = select(Observation.site_id, Observation.target_id).where(
        and_(Observation.observed_at >= since, Observation.observed_at <= now)
    )
    if site_ids is not None:
        stmt = stmt.where(Observation.site_id.in_(site_ids))
    if target_ids is not None:
        stmt = stmt.where(Observation.target_id.in_(target_ids))
    rows = session.execute(stmt.distinct()).all()
    t_index = {int(t): i for i, t in enumerate(targets.target_id.tolist())}
    s_index = {s: i for i, s in enumerate(sites.site_id)}
    pairs = [(s_index[s], t_index[t]) for s, t in rows if s in s_index and t in t_index]
    arr = np.array(pairs, dtype=np.intp).reshape(-1, 2)
    return RecentObservations(site_index=arr[:, 0], target_index=arr[:, 1])


def load_network(
    session: Session,
    now: datetime,
    cfg: SchedulerConfig,
    stale_minutes: float,
    site_ids: list[str] | None = None,
    assume_clear: bool = False,
    changed_since: datetime | None = None,
) -> NetworkInputs:
    vocabulary = FilterVocabulary()
    version = catalog_version.current(session)
    sites = load_sites(session, now, vocabulary, stale_minutes, site_ids, assume_clear)
    targets, wire = load_targets(session, now, vocabulary, changed_since)
    # a fold-in's few changed targets: ask for their recent pairs only
    loaded = targets.target_id.tolist() if changed_since is not None else None
    recent = load_recent(session, now, cfg, targets, sites, site_ids, loaded)
    return NetworkInputs(targets, sites, recent, version, wire)
