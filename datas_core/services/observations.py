"""Observation ingest (idempotent on observation_id) and listing; light curves: lightcurves/."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from datas_core.db.models import Observation, Site, Target
from datas_core.errors import Conflict, Forbidden, InvalidInput
from datas_core.schemas.observations import ObservationIn
from datas_core.services.paging import Page, paginate

# Fields that define "the same observation": a replay must agree on these.
IDENTITY_FIELDS = ("target_id", "site_id", "observed_at", "filter", "magnitude", "exposure_sec")
FUTURE_TOLERANCE = timedelta(hours=1)
# CCD photometry from before this is an archive import, not something a site reports.
EARLIEST_OBSERVATION = datetime(1990, 1, 1, tzinfo=timezone.utc)
_CHUNK = 500


def _ids_present(session: Session, column: Any, values: Sequence[Any]) -> set[Any]:
    found: set[Any] = set()
    unique = sorted(set(values))
    for start in range(0, len(unique), _CHUNK):
        found.update(
            session.scalars(select(column).where(column.in_(unique[start : start + _CHUNK])))
        )
    return found


def _row(item: ObservationIn, received_at: datetime) -> dict[str, Any]:
    row = item.model_dump()
    row["observation_id"] = str(item.observation_id)
    row["received_at"] = received_at
    return row


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert what is not stored yet; returns the ids this transaction actually inserted.

    A concurrent request may store the same observation_id between our read and our insert:
    its row wins (ON CONFLICT DO NOTHING) and the caller compares it with what we were sent.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = pg_insert(Observation).on_conflict_do_nothing(index_elements=["observation_id"])
    elif dialect == "sqlite":
        stmt = sqlite_insert(Observation).on_conflict_do_nothing(index_elements=["observation_id"])
    else:
        stmt = insert(Observation)
    inserted: set[str] = set()
    for start in range(0, len(rows), _CHUNK):
        result = session.execute(
            stmt.returning(Observation.observation_id), rows[start : start + _CHUNK]
        )
        inserted.update(result.scalars())
    return inserted


def _same(stored: Observation, item: ObservationIn) -> bool:
    return all(getattr(stored, f) == getattr(item, f) for f in IDENTITY_FIELDS)


def ingest(
    session: Session, items: Sequence[ObservationIn], *, writer_site_id: str | None = None
) -> tuple[list[Observation], int]:
    """Store observations all-or-nothing; returns (stored records in request order, created).

    A replayed observation_id returns the stored record; one that disagrees with what is stored
    is a Conflict. `writer_site_id` restricts writes to one site (site keys).
    """
    if writer_site_id is not None:
        foreign = sorted({i.site_id for i in items if i.site_id != writer_site_id})
        if foreign:
            raise Forbidden(
                f"this key may only write observations for site {writer_site_id!r}; "
                f"the request names {', '.join(map(repr, foreign))}"
            )
    problems: list[str] = []
    now = datetime.now(timezone.utc)
    by_id: dict[str, ObservationIn] = {}
    for index, item in enumerate(items):
        oid = str(item.observation_id)
        if oid in by_id and by_id[oid] != item:
            problems.append(f"[{index}] observation_id {oid} appears twice with different content")
        by_id[oid] = item
        if item.observed_at > now + FUTURE_TOLERANCE:
            problems.append(
                f"[{index}] observed_at {item.observed_at.isoformat()} is in the future; "
                "check the site clock and timezone"
            )
        elif item.observed_at < EARLIEST_OBSERVATION:
            problems.append(
                f"[{index}] observed_at {item.observed_at.isoformat()} is before "
                f"{EARLIEST_OBSERVATION.year}; check the date (DATE-OBS) the site sent"
            )
    unknown_sites = {i.site_id for i in items} - _ids_present(
        session, Site.site_id, [i.site_id for i in items]
    )
    unknown_targets = {i.target_id for i in items} - _ids_present(
        session, Target.target_id, [i.target_id for i in items]
    )
    if unknown_sites:
        problems.append(f"unknown site_id(s): {', '.join(map(repr, sorted(unknown_sites)))}")
    if unknown_targets:
        shown = sorted(unknown_targets)
        problems.append(f"unknown target_id(s): {', '.join(map(str, shown[:20]))}")
    if problems:
        raise InvalidInput("nothing was stored: " + "; ".join(problems[:20]))

    stored = {o.observation_id: o for o in _fetch(session, list(by_id))}
    mismatched = [oid for oid, o in stored.items() if not _same(o, by_id[oid])]
    if mismatched:
        raise Conflict(
            "observation_id(s) already stored with different content: "
            + ", ".join(mismatched[:20])
            + "; a new measurement needs a new observation_id"
        )
    new_rows = [_row(item, now) for oid, item in by_id.items() if oid not in stored]
    inserted: set[str] = set()
    if new_rows:
        inserted = _insert_ignoring_duplicates(session, new_rows)
        session.flush()
    records = {o.observation_id: o for o in _fetch(session, list(by_id))}
    raced = [oid for oid in by_id if oid not in inserted and oid not in stored]
    lost = [oid for oid in raced if not _same(records[oid], by_id[oid])]
    if lost:
        raise Conflict(
            "observation_id(s) stored meanwhile by another request with different content: "
            + ", ".join(lost[:20])
            + "; nothing was stored. A new measurement needs a new observation_id"
        )
    ordered = [records[str(i.observation_id)] for i in items]
    return ordered, len(inserted)


def _fetch(session: Session, ids: list[str]) -> list[Observation]:
    out: list[Observation] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        out.extend(
            session.scalars(select(Observation).where(Observation.observation_id.in_(chunk)))
        )
    return out


def list_observations(
    session: Session,
    *,
    target_id: int | None = None,
    site_id: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[Observation]:
    if after and before and before <= after:
        raise InvalidInput("'before' must be later than 'after'")
    stmt = select(Observation).order_by(Observation.observed_at, Observation.observation_id)
    if target_id is not None:
        stmt = stmt.where(Observation.target_id == target_id)
    if site_id is not None:
        stmt = stmt.where(Observation.site_id == site_id)
    if after is not None:
        stmt = stmt.where(Observation.observed_at >= after)
    if before is not None:
        stmt = stmt.where(Observation.observed_at < before)
    return paginate(session, stmt, limit, offset)
