"""Helpers shared by the `datas` commands: settings, sessions, errors, tables and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import click
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from datas_core.errors import DatasError

F = TypeVar("F", bound=Callable[..., Any])
out = Console()
err = Console(stderr=True)


def _settings() -> Any:
    from datas_core.settings import get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        raise click.ClickException(f"invalid DATAS_* setting: {_pydantic_message(exc)}") from exc


def _pydantic_message(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
    )


def friendly_errors(fn: F) -> F:
    """Domain and validation errors become one readable line and exit status 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DatasError as exc:
            raise click.ClickException(exc.message) from exc
        except ValidationError as exc:
            raise click.ClickException(_pydantic_message(exc)) from exc

    return wrapper  # type: ignore[return-value]


@contextmanager
def db_session() -> Iterator[Any]:
    """A committed-on-success session on an up-to-date database."""
    from alembic.script import ScriptDirectory
    from sqlalchemy.exc import OperationalError

    from datas_core.db import make_engine, make_session_factory, session_scope
    from datas_core.db.migrate import alembic_config, current_revision

    url = _settings().resolved_database_url
    try:
        current = current_revision(url)
    except OperationalError as exc:
        raise click.ClickException(f"cannot open the database {url!r}: {exc.orig}") from exc
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    if current != head:
        raise click.ClickException(
            f"the database is at revision {current or 'none'}, the code needs {head}; "
            "run `datas db upgrade` first"
        )
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool, title: str) -> None:
    if as_json:
        click.echo(json.dumps(list(rows), indent=2, default=str))
        return
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    out.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.7g}"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def dump(model: type[BaseModel], obj: Any) -> dict[str, Any]:
    return model.model_validate(obj).model_dump(mode="json")


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
