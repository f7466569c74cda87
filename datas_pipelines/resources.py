"""Dagster resources: the app database, reached through datas_core."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import ConfigurableResource
from sqlalchemy.orm import Session, sessionmaker

from datas_core.db import make_engine, make_session_factory, session_scope
from datas_core.settings import get_settings


class AppDatabase(ConfigurableResource):  # type: ignore[type-arg]
    """The DATAS app database. Empty URL means the DATAS_* settings (embedded SQLite default)."""

    database_url: str = ""

    @contextmanager
    def session_factory(self) -> Iterator[sessionmaker[Session]]:
        """A factory for code that opens its own short sessions (one per frame, say)."""
        engine = make_engine(self.database_url or get_settings().resolved_database_url)
        try:
            yield make_session_factory(engine)
        finally:
            engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        engine = make_engine(self.database_url or get_settings().resolved_database_url)
        try:
            with session_scope(make_session_factory(engine)) as session:
                yield session
        finally:
            engine.dispose()
