"""`datas-agent outbox list|retry|drop`: the operator's hands on the outbox file.

Works on `state_dir/outbox.sqlite3` directly, with or without the agent running (SQLite keeps
the two writers apart; the running agent picks up the changes at its next drain).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import click

from site_agent.cli_options import config_option, load
from site_agent.outbox import Outbox, Row

STATES: dict[str, tuple[str, ...]] = {
    "queued": ("pending",),
    "dead": ("dead",),
    "sent": ("sent",),
    "all": ("pending", "dead", "sent"),
}


def outbox_path(state_dir: Path) -> Path:
    return state_dir / "outbox.sqlite3"


def open_outbox(state_dir: Path) -> Outbox:
    path = outbox_path(state_dir)
    if not path.exists():
        raise click.ClickException(
            f"no outbox at {path}: the agent has not queued anything yet with this site.yaml"
        )
    return Outbox(path)


def shown_state(state: str) -> str:
    return "queued" if state == "pending" else state


def as_json(row: Row) -> dict[str, object]:
    return {
        "id": row.id,
        "kind": row.kind,
        "key": row.key,
        "state": shown_state(row.state),
        "tries": row.tries,
        "attempts": row.attempts,
        "created_at": _iso(row.created_at),
        "next_attempt_at": _iso(row.next_attempt_at) if row.state == "pending" else None,
        "last_error": row.last_error,
    }


def table(rows: list[Row], now: float) -> str:
    header = ("ID", "KIND", "STATE", "TRIES", "AGE", "NEXT", "KEY", "LAST ERROR")
    lines = [header]
    for r in rows:
        due = "-" if r.state != "pending" else _span(max(r.next_attempt_at - now, 0)) or "now"
        lines.append(
            (
                str(r.id),
                r.kind,
                shown_state(r.state),
                str(r.tries),
                _span(now - r.created_at) or "0s",
                due,
                r.key,
                (r.last_error or "").replace("\n", " ")[:80],
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        (
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=False))
            + "  "
            + line[-1]
        ).rstrip()
        for line in lines
    )


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, tz=timezone.utc).isoformat(timespec="seconds")


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return ""


@click.group()
def outbox() -> None:
    """Inspect the outbox; queue dead items again; drop items for good."""


@outbox.command("list")
@config_option
@click.option(
    "--state",
    type=click.Choice(list(STATES)),
    default="all",
    show_default=True,
    help="queued: waiting to go out; dead: set aside; sent: acknowledged (kept 7 days).",
)
@click.option("--limit", default=1000, show_default=True, help="Show at most this many.")
@click.option("--json", "as_json_output", is_flag=True, help="A JSON list, one object per item.")
def list_items(config_path: Path, state: str, limit: int, as_json_output: bool) -> None:
    """Items in the outbox, oldest first."""
    box = open_outbox(load(config_path).state_dir)
    try:
        rows = box.rows(STATES[state], limit)
    finally:
        box.close()
    if as_json_output:
        click.echo(json.dumps([as_json(r) for r in rows], indent=2))
    elif rows:
        click.echo(table(rows, time.time()))
    else:
        click.echo("the outbox is empty" if state == "all" else f"no {state} items")


@outbox.command()
@config_option
@click.argument("refs", nargs=-1)
@click.option("--all-dead", is_flag=True, help="Every dead item.")
def retry(config_path: Path, refs: tuple[str, ...], all_dead: bool) -> None:
    """Queue items (IDs or keys) again, due now with fresh tries: after the server or the key
    is fixed."""
    if not refs and not all_dead:
        raise click.UsageError("give item IDs (or keys), or --all-dead")
    box = open_outbox(load(config_path).state_dir)
    try:
        ids, missing = box.find(list(refs))
        if all_dead:
            ids = sorted(set(ids) | set(box.dead_ids()))
        count = box.requeue(ids)
    finally:
        box.close()
    click.echo(f"queued {count} item(s) again; they go out at the agent's next drain")
    _missing(missing)


@outbox.command()
@config_option
@click.argument("refs", nargs=-1, required=True)
@click.confirmation_option(prompt="Dropped items are never uploaded. Drop them?")
def drop(config_path: Path, refs: tuple[str, ...]) -> None:
    """Forget items (IDs or keys) for good; their FITS files in state_dir/frames stay."""
    box = open_outbox(load(config_path).state_dir)
    try:
        ids, missing = box.find(list(refs))
        count = box.drop(ids)
    finally:
        box.close()
    click.echo(f"dropped {count} item(s)")
    _missing(missing)


def _missing(refs: list[str]) -> None:
    if refs:
        raise click.ClickException(
            f"no such item: {', '.join(refs)} (see `datas-agent outbox list`)"
        )
