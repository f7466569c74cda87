"""App database: tables, engine/session factory, migrations."""

from datas_core.db.engine import make_engine, make_session_factory, normalize_url, session_scope

__all__ = ["make_engine", "make_session_factory", "normalize_url", "session_scope"]
