"""The latest raw alerts of each feed and what each did (its status and target)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from datas_core.db.models import RawAlert, Target, TargetAlias

PER_FEED = 20
MAX_FEEDS = 20

# Distinct feeds by walking the (feed, received_at) index one feed at a time: O(feeds log n),
# where SELECT DISTINCT would read every alert. Same SQL on SQLite and PostgreSQL.
_FEEDS = text(
    """
    WITH RECURSIVE f(feed) AS (
        SELECT MIN(feed) FROM raw_alerts
        UNION ALL
        SELECT (SELECT MIN(feed) FROM raw_alerts WHERE feed > f.feed) FROM f
        WHERE f.feed IS NOT NULL
    )
    SELECT feed FROM f WHERE feed IS NOT NULL LIMIT :limit
    """
)


def latest_by_feed(session: Session, now: datetime) -> list[dict[str, Any]]:
    feeds = [str(r[0]) for r in session.execute(_FEEDS, {"limit": MAX_FEEDS})]
    day_ago = now - timedelta(hours=24)
    out = []
    for feed in feeds:  # a handful of feeds, each one index range
        rows = session.execute(
            select(RawAlert, Target.name)
            .outerjoin(Target, Target.target_id == RawAlert.target_id)
            .where(RawAlert.feed == feed)
            .order_by(RawAlert.received_at.desc())
            .limit(PER_FEED)
        ).all()
        made = _made_by(session, [a for a, _ in rows])
        last_day = session.scalar(
            select(func.count())
            .select_from(RawAlert)
            .where(RawAlert.feed == feed, RawAlert.received_at >= day_ago)
        )
        out.append(
            {
                "feed": feed,
                "last_24h": last_day or 0,
                "alerts": [
                    {"alert": a, "target_name": name, "outcome": _outcome(a, made), **_summary(a)}
                    for a, name in rows
                ],
            }
        )
    return out


def _made_by(session: Session, alerts: list[RawAlert]) -> dict[str, int]:
    """Alias -> target for the targets these alerts created: ingest names a new target
    '<feed>:<alert id>' (datas_core.services.alerts); a matched target has no such alias."""
    wanted = [f"{a.feed}:{a.natural_key}" for a in alerts if a.target_id is not None]
    if not wanted:
        return {}
    rows = session.execute(
        select(TargetAlias.alias, TargetAlias.target_id).where(TargetAlias.alias.in_(wanted))
    )
    return {alias: target_id for alias, target_id in rows}


def _outcome(alert: RawAlert, made: dict[str, int]) -> str:
    """What the alert did: created its target, updated a matching one, or nothing (yet)."""
    if alert.target_id is None:
        return alert.status
    if made.get(f"{alert.feed}:{alert.natural_key}") == alert.target_id:
        return "created target"
    return "updated target"


def _summary(alert: RawAlert) -> dict[str, Any]:
    p = alert.payload if isinstance(alert.payload, dict) else {}
    return {
        "name": p.get("name") or p.get("alert_id") or alert.natural_key,
        "ra_deg": p.get("ra_deg"),
        "dec_deg": p.get("dec_deg"),
        "magnitude": p.get("magnitude"),
        "classification": p.get("classification"),
    }
