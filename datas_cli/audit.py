"""`datas audit`: the audit log of admin actions; `record_cli` logs the CLI's own changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from datas_cli.common import db_session, emit, friendly_errors, json_option

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def record_cli(
    session: Session,
    action: str,
    object_type: str,
    object_id: str | int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One audit entry in the command's transaction; the actor is `cli:<os user>`."""
    from datas_core.services import audit

    audit.record(
        session, audit.Actor.cli(), action, object_type, object_id, detail, audit.cli_source()
    )


@click.group()
def audit() -> None:
    """Audit log: who changed keys, users, sites, targets and campaigns, when, from where."""


@audit.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--action", default=None, help="Only this action, e.g. key.create.")
@click.option("--actor", default=None, help="Only this actor: key:<key_id>, cli:<user>, a name.")
@click.option("--object-type", default=None, help="Only this kind of object, e.g. site.")
@json_option
@friendly_errors
def audit_list(
    limit: int,
    offset: int,
    action: str | None,
    actor: str | None,
    object_type: str | None,
    as_json: bool,
) -> None:
    """List admin actions, newest first."""
    from datas_core.services import audit as audit_service

    with db_session() as session:
        page = audit_service.list_entries(
            session, actor=actor, action=action, object_type=object_type, limit=limit, offset=offset
        )
        rows = [audit_service.as_dict(e) for e in page.items]
    if not as_json:
        for row in rows:
            row["at"] = f"{row['at']:%Y-%m-%d %H:%M:%S}Z"
    cols = ["at", "actor", "action", "object_type", "object_id", "source"]
    title = f"audit entries {offset + 1}-{offset + len(rows)} of {page.total}"
    emit(rows, cols, as_json, title)
