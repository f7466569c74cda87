"""Migrations match the models on both backends; CSV import reports bad rows by line."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from datas_core.db.models import Base, Target
from datas_core.errors import InvalidInput
from datas_core.services.target_import import import_targets_csv, parse_angle


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    from datas_core.db import make_engine
    from datas_core.db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade(url)
    eng = make_engine(url)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    eng.dispose()


def test_plain_postgresql_url_gets_psycopg3() -> None:
    from datas_core.db import normalize_url

    assert normalize_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    with pytest.raises(InvalidInput, match="not supported"):
        normalize_url("mysql://u@h/db")


CSV = """name,ra_deg,dec_deg,magnitude,priority,target_type,filters,aliases
Algol,03:08:10.13,+40:57:20.3,2.1,8,variable_star,B;V,bet Per;HR 936
Bad RA,361,10,5,5,variable_star,,
Mira,34.8366,-2.9776,6.5,7,variable_star,V,omi Cet
Bad mag,10,10,bright,5,,,
Algol,1,1,1,1,,,
Dupe alias,5,5,5,5,,,omi Cet
"""


def test_import_all_or_nothing_then_good_rows(session: Session) -> None:
    report = import_targets_csv(session, CSV)
    assert not report.applied and report.imported == 0
    assert [(e.line, e.message.split(":")[0]) for e in report.errors][:2] == [
        (3, "ra_deg"),
        (5, "magnitude"),
    ]
    assert {e.line for e in report.errors} == {3, 5, 6, 7}
    assert "line 2" in next(e.message for e in report.errors if e.line == 6)
    assert session.scalar(select(func.count()).select_from(Target)) == 0
    report = import_targets_csv(session, CSV, skip_bad_rows=True)
    session.commit()
    assert report.applied and report.imported == 2 and report.rows == 6
    algol = session.scalar(select(Target).where(Target.name == "Algol"))
    assert algol is not None
    assert algol.ra_deg == pytest.approx(47.04221, abs=1e-5) and algol.dec_deg == pytest.approx(
        40.95564, abs=1e-5
    )
    assert sorted(a.alias for a in algol.aliases) == ["HR 936", "bet Per"] and algol.filters == [
        "B",
        "V",
    ]


def test_import_header_problems(session: Session) -> None:
    with pytest.raises(InvalidInput, match="missing column"):
        import_targets_csv(session, "name,ra_deg\nx,1\n")
    with pytest.raises(InvalidInput, match=r"unknown column.*colour"):
        import_targets_csv(session, "name,ra_deg,dec_deg,colour\nx,1,1,red\n")
    with pytest.raises(InvalidInput, match="empty"):
        import_targets_csv(session, "")
    report = import_targets_csv(session, "name,ra_deg,dec_deg\nx,1,1,extra\n")
    assert report.errors[0].line == 2 and "more value" in report.errors[0].message


def test_parse_angle() -> None:
    assert parse_angle("12:00:00", hours=True) == 180.0
    assert parse_angle("-00:30:00", hours=False) == -0.5
    with pytest.raises(ValueError):
        parse_angle("12:61:00", hours=False)
