"""Which sites' stored lists name a target: served (with its rank) or explicitly excluded.

The lists are JSON (50 entries per site, ~30 MB for 1,000 sites); searching them on every
target page would read all of it. This index is built once per ranking run (when the stored
lists' count or newest computed_at changes) from the raw JSON text with a regex, and kept per
database in the process. Pages then read only the few lists that name the target.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, Text, cast, func, select
from sqlalchemy.orm import Session

from datas_core.db.models import SiteRanking

_TARGET_ID = re.compile(r'"target_id":\s*(\d+)')


class RankingIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._signature: tuple[Any, ...] | None = None
        self._served: dict[int, list[tuple[int, str]]] = {}
        self._excluded: dict[int, list[str]] = {}

    def _build(self, session: Session) -> None:
        served: dict[int, list[tuple[int, str]]] = defaultdict(list)
        excluded: dict[int, list[str]] = defaultdict(list)
        rows = session.execute(
            select(
                SiteRanking.site_id,
                cast(SiteRanking.entries, Text),
                cast(SiteRanking.excluded, Text),
            )
        )
        for site_id, entries, left_out in rows:
            for rank, match in enumerate(_TARGET_ID.finditer(entries or ""), start=1):
                served[int(match.group(1))].append((rank, site_id))
            for match in _TARGET_ID.finditer(left_out or ""):
                excluded[int(match.group(1))].append(site_id)
        self._served, self._excluded = dict(served), dict(excluded)

    def lookup(self, session: Session, target_id: int) -> tuple[list[tuple[int, str]], list[str]]:
        """(rank, site_id) where the target is served, best rank first; sites excluding it."""
        signature = tuple(
            session.execute(select(func.count(), func.max(SiteRanking.computed_at))).one()
        )
        if signature != self._signature:
            with self._lock:  # one rebuild at a time; the others wait for it
                if signature != self._signature:
                    self._build(session)
                    self._signature = signature
        return sorted(self._served.get(target_id, [])), list(self._excluded.get(target_id, []))


_indexes: dict[str, RankingIndex] = {}
_indexes_lock = threading.Lock()


def index_for(session: Session) -> RankingIndex:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    key = engine.url.render_as_string(hide_password=True)
    with _indexes_lock:
        return _indexes.setdefault(key, RankingIndex())
