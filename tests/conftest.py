"""Shared fixtures: every database test runs on SQLite and on the local PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from datas_core.db import make_engine, make_session_factory
from datas_core.db.migrate import upgrade
from datas_core.db.models import Base
from datas_core.sky.astropy_offline import configure_astropy_offline

configure_astropy_offline()

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_ADMIN_URL = os.environ.get(
    "DATAS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


def missing_system_part(message: str) -> None:
    """Skip outside CI with how-to-install advice; under CI=true a missing part is a failure."""
    if IN_CI:
        pytest.fail(f"CI=true and a required system part is missing: {message}")
    pytest.skip(message)


def _pg_admin() -> Any:
    import psycopg

    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        missing_system_part(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc}). Start it "
            "(e.g. `pg_ctlcluster 15 main start`) or set DATAS_TEST_POSTGRES_URL"
        )


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    from sqlalchemy.engine import make_url

    admin = _pg_admin()
    name = f"datas_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'datas.db'}"
    upgrade(url)
    return url


def reset_database(engine: Engine) -> None:
    """Empty every table (fast compared with a new database per test)."""
    names = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(names):
                conn.execute(text(f"DELETE FROM {name}"))
        conn.execute(text("INSERT INTO catalog_version (name, version) VALUES ('targets', 0)"))


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    url = request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url")
    engine = make_engine(url)
    reset_database(engine)
    engine.dispose()
    yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Any]:
    from datas_core.settings import Settings

    def make(db_url: str, **overrides: Any) -> Settings:
        # Tests change data and read it back at once: no per-worker caching unless asked for.
        overrides.setdefault("auth_cache_seconds", 0)
        overrides.setdefault("catalog_recheck_seconds", 0)
        overrides.setdefault("site_cache_seconds", 0)
        return Settings(home=tmp_path / "home", database_url=db_url, **overrides)

    return make


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 for the whole run (tests isolate by bucket)."""
    import importlib.util

    for module in ("boto3", "moto", "flask"):  # flask: moto's server extra
        if importlib.util.find_spec(module) is None:
            missing_system_part(f"{module} is not installed; pip install -e '.[dev]'")
    from tests.moto_s3 import moto_server

    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """A fresh bucket on the moto server, with dummy AWS credentials in the environment."""
    from tests.moto_s3 import new_bucket, use_dummy_credentials

    use_dummy_credentials(monkeypatch, tmp_path)
    return new_bucket(moto_endpoint)
