"""The audit log of admin actions: who, what, when, from where.

`record` only adds a row to the caller's session, so the entry commits or rolls back together
with the change it describes. Details never hold secrets (API key secrets, passwords).
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from datas_core.db.models import AuditEntry
from datas_core.schemas.auth import Principal
from datas_core.services.paging import Page, paginate

FIELDS = (
    "id",
    "at",
    "actor",
    "actor_name",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "detail",
    "source",
)


@dataclass(frozen=True)
class Actor:
    label: str  # "key:<key_id>", "user:<user_id>" or "cli:<os user>"
    name: str | None = None
    role: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(f"{principal.kind}:{principal.id}", principal.name, principal.role)

    @classmethod
    def cli(cls) -> Actor:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (containers)
            user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
        return cls(f"cli:{user}", user, None)


def cli_source() -> str:
    return f"cli@{socket.gethostname()}"


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int | None,
    detail: dict[str, Any] | None,
    source: str,
) -> AuditEntry:
    """Add one entry to the caller's transaction (committed with the change, or not at all)."""
    entry = AuditEntry(
        actor=actor.label[:200],
        actor_name=actor.name[:200] if actor.name else None,
        actor_role=actor.role,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id)[:200],
        detail=detail or {},
        source=source[:200],
    )
    session.add(entry)
    return entry


def list_entries(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[AuditEntry]:
    """Newest first. `actor` matches the label ("key:...") or the name (a username)."""
    stmt = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if actor:
        stmt = stmt.where(or_(AuditEntry.actor == actor, AuditEntry.actor_name == actor))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if after:
        stmt = stmt.where(AuditEntry.at >= after)
    if before:
        stmt = stmt.where(AuditEntry.at < before)
    return paginate(session, stmt, limit, offset)


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in FIELDS}


def membership_detail(target_ids: list[int], added: int) -> dict[str, Any]:
    """What a campaign membership change asked for (ids capped: a request may hold thousands)."""
    return {"requested": len(target_ids), "added": added, "target_ids": sorted(target_ids)[:100]}
