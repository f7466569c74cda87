"""A version counter for the target catalog: bumped in the same transaction as any change."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from datas_core.db.models import CatalogVersion

CATALOG = "targets"


def bump(session: Session) -> None:
    # The row is created by the initial migration, so this never races on an INSERT.
    session.execute(
        update(CatalogVersion)
        .where(CatalogVersion.name == CATALOG)
        .values(version=CatalogVersion.version + 1)
    )


def current(session: Session) -> int:
    return session.scalar(select(CatalogVersion.version).where(CatalogVersion.name == CATALOG)) or 0
