"""Which targets' light curves need rebuilding: a cursor over observations' received_at.

The cursor is the last (received_at, target_id) handed out. Only observations received at least
`settle` ago are considered, so a transaction that committed a little late (its received_at is
taken before the commit) is still seen. Each call hands out at most `limit` targets, oldest
change first; the rest follow on the next call.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datas_core.db.models import Observation

SETTLE = timedelta(seconds=60)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Changes:
    target_ids: list[int]
    cursor: str | None
    more: bool  # the limit cut the list: call again soon


def _parse(cursor: str | None) -> tuple[datetime, int]:
    if not cursor:
        return EPOCH, -1
    data = json.loads(cursor)
    return datetime.fromisoformat(data["received_at"]), int(data["target_id"])


def _dump(received_at: datetime, target_id: int) -> str:
    return json.dumps({"received_at": received_at.isoformat(), "target_id": target_id})


def changed_targets(
    session: Session,
    cursor: str | None,
    *,
    limit: int = 1000,
    now: datetime | None = None,
    settle: timedelta = SETTLE,
) -> Changes:
    """Targets with observations received since the cursor (up to now - settle)."""
    since, last_target = _parse(cursor)
    horizon = (now or datetime.now(timezone.utc)) - settle
    latest = func.max(Observation.received_at)
    rows = session.execute(
        select(Observation.target_id, latest)
        .where(Observation.received_at >= since, Observation.received_at <= horizon)
        .group_by(Observation.target_id)
    ).all()
    fresh = sorted(
        (received, target_id)
        for target_id, received in rows
        if (received, target_id) > (since, last_target)
    )
    taken = fresh[:limit]
    if not taken:
        return Changes([], cursor, more=False)
    received, target_id = taken[-1]
    return Changes([t for _, t in taken], _dump(received, target_id), more=len(fresh) > limit)


def partition_spans(
    order: Sequence[str], changed: Sequence[str], *, max_gap: int = 50, max_spans: int = 10
) -> list[tuple[str, str]]:
    """Contiguous (first, last) key ranges, in partition order, that cover every changed key.

    Neighbouring changed keys share a range when fewer than `max_gap` unchanged keys lie between
    them (rebuilding those costs less than launching another run); if more than `max_spans`
    ranges remain, the closest ones are merged until `max_spans` are left.
    """
    position = {key: i for i, key in enumerate(order)}
    missing = [k for k in changed if k not in position]
    if missing:
        raise ValueError(f"keys not in the partition order: {missing[:5]}")
    idx = sorted({position[k] for k in changed})
    if not idx:
        return []
    gaps = sorted(
        ((idx[j + 1] - idx[j] - 1, j) for j in range(len(idx) - 1) if idx[j + 1] - idx[j] - 1),
        reverse=True,
    )
    cuts = sorted(j for gap, j in gaps[: max_spans - 1] if gap >= max_gap)
    spans, start = [], 0
    for j in cuts:
        spans.append((order[idx[start]], order[idx[j]]))
        start = j + 1
    spans.append((order[idx[start]], order[idx[-1]]))
    return spans
