"""Pushed alerts: stored append-only by natural key, then matched to a target or made one."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from datas_core.db.models import RawAlert, Target
from datas_core.schemas.alerts import AlertIn, AlertResult
from datas_core.schemas.targets import AliasIn, TargetCreate
from datas_core.services import catalog_version
from datas_core.services.targets import cone_search, create_target


def ingest_alert(session: Session, alert: AlertIn) -> AlertResult:
    """Idempotent on (feed, alert_id): a replay reports `duplicate` and changes nothing."""
    existing = session.scalar(
        select(RawAlert).where(RawAlert.feed == alert.feed, RawAlert.natural_key == alert.alert_id)
    )
    if existing is not None:
        return AlertResult(
            status="duplicate", raw_alert_id=existing.id, target_id=existing.target_id
        )
    raw = RawAlert(
        feed=alert.feed,
        natural_key=alert.alert_id,
        payload=alert.model_dump(mode="json"),
        received_at=datetime.now(timezone.utc),
    )
    session.add(raw)
    session.flush()

    matches = cone_search(session, alert.ra_deg, alert.dec_deg, alert.match_radius_arcsec / 3600.0)
    target: Target
    if matches:
        target, _sep = matches[0]
        status = "updated"
        if alert.magnitude is not None:
            target.magnitude = alert.magnitude
        if alert.classification:
            target.classification = alert.classification
        target.priority = max(target.priority, alert.priority)
        target.active = True
        catalog_version.bump(session)
    else:
        name = alert.name or f"{alert.feed.upper()} {alert.alert_id}"
        if session.scalar(select(Target.target_id).where(Target.name == name)):
            name = f"{name} ({alert.feed}:{alert.alert_id})"
        target = create_target(
            session,
            TargetCreate(
                name=name,
                ra_deg=alert.ra_deg,
                dec_deg=alert.dec_deg,
                target_type=alert.target_type,
                classification=alert.classification,
                magnitude=alert.magnitude,
                priority=alert.priority,
                t0=alert.observed_at,
                source=alert.feed,
                aliases=[AliasIn(alias=f"{alert.feed}:{alert.alert_id}", source=alert.feed)],
            ),
        )
        status = "created"
    raw.target_id = target.target_id
    session.flush()
    return AlertResult(
        status=status, raw_alert_id=raw.id, target_id=target.target_id, target_name=target.name
    )
