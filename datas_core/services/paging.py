"""Limit/offset pages with a total, for every list endpoint and CLI listing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from datas_core.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 1000


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        nxt = self.offset + len(self.items)
        return nxt if nxt < self.total else None

    def info(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": self.next_offset,
        }


def check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT} (got {limit})")
    if offset < 0:
        raise InvalidInput(f"offset must be 0 or more (got {offset})")


def paginate(session: Session, stmt: Select[Any], limit: int, offset: int) -> Page[Any]:
    check_page(limit, offset)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(session.scalars(stmt.limit(limit).offset(offset)))
    return Page(items=items, total=total, limit=limit, offset=offset)
