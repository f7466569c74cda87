"""`datas schedule preview|simulate`: the network scheduler from the command line."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

import click
from rich.table import Table

from datas_cli.common import _settings, db_session, friendly_errors, json_option, out


@click.group()
def schedule() -> None:
    """Preview what a site would be served, or simulate a night of the whole network."""


def _parse_time(value: str | None) -> datetime:
    if value is None:
        return datetime.now(timezone.utc)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO time; e.g. 2026-11-23T22:00Z") from exc
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@schedule.command("preview")
@click.option("--site", "site_id", required=True, help="The site to rank for.")
@click.option("--at", "at", default=None, help="ISO time (UTC if no zone); default now.")
@click.option("--count", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option(
    "--assume-clear",
    is_flag=True,
    help="Treat every site's weather as clear (sites without recent heartbeats are skipped "
    "otherwise: unknown weather is never scheduled).",
)
@json_option
@friendly_errors
def preview(site_id: str, at: str | None, count: int, assume_clear: bool, as_json: bool) -> None:
    """The ranked list SITE would get at a time, with every score term."""
    from datas_core.errors import NotFound
    from datas_core.scheduling.config import scheduler_config
    from datas_core.services import rankings, sites

    settings = _settings()
    when = _parse_time(at)
    with db_session() as session:
        sites.get_site(session, site_id)  # a clear 'does not exist' first
        run = rankings.compute_rankings(
            session,
            when,
            scheduler_config(settings),
            settings.heartbeat_stale_minutes,
            assume_clear=assume_clear,
        )
    data = run.sites.get(site_id)
    if data is None:
        raise NotFound(f"site {site_id!r} is inactive; activate it to rank it")
    entries = data["entries"][:count]
    reason = data["site_reason"]
    hint = ""
    if reason and "weather unknown" in reason:
        hint = "add --assume-clear to preview as if the sky were clear"
    elif reason == "daylight":
        hint = "try --at with a time of night at the site"
    if as_json:
        rows = [
            {
                "target_id": e["target_id"],
                "name": e["name"],
                "score": e["score"],
                "altitude_deg": e["altitude_deg"],
                "terms": e["terms"],
                "in_slot": e["in_slot"],
                "exposure_plan": e["exposure_plan"],
                "window": e["window"],
            }
            for e in entries
        ]
        # The reason travels with the list: an empty list is never left unexplained.
        body = {"site_id": site_id, "at": when.isoformat(), "site_reason": reason, "hint": hint}
        click.echo(json.dumps({**body, "targets": rows}, indent=2))
        return
    if reason:
        click.echo(f"{site_id} at {when.isoformat()}: no targets: {reason} ({hint})")
        return
    _print_preview(site_id, when, entries)


def _print_preview(site_id: str, when: datetime, entries: list[dict[str, Any]]) -> None:
    table = Table(title=f"{site_id} at {when.isoformat(timespec='minutes')}")
    for col in ("#", "target", "score", "alt", "plan", "sets", "terms (x)"):
        table.add_column(col)
    for e in entries:
        terms = " ".join(f"{k}={v:g}" for k, v in e["terms"].items() if abs(v - 1.0) > 1e-4)
        plan = e["exposure_plan"]
        table.add_row(
            f"{e['rank']}{'*' if e['in_slot'] else ''}",
            e["name"],
            f"{e['score']:.3g}",
            f"{e['altitude_deg']:.1f}",
            f"{plan['count']}x{plan['exposure_sec']:g}s {plan['filter']}",
            (e["window"]["set"] or "")[11:16],
            terms,
        )
    out.print(table)
    out.print("* in this site's slot (what it should observe before the next ranking)")


@schedule.command("simulate")
@click.option("--night", "night", required=True, help="Date, e.g. 2026-11-23 (noon to noon UTC).")
@click.option("--seed", type=int, default=1, show_default=True, help="Weather random seed.")
@click.option("--step", "step", type=float, default=10.0, show_default=True, help="Minutes.")
@json_option
@friendly_errors
def simulate(night: str, seed: int, step: float, as_json: bool) -> None:
    """Run a night of the network: network assignment vs. every site greedy on its own."""
    from datas_core.scheduling.config import scheduler_config
    from datas_core.scheduling.simulate import SimulationSettings, compare_strategies
    from datas_core.services.scheduling_inputs import load_network

    try:
        day = date.fromisoformat(night)
    except ValueError as exc:
        raise click.BadParameter(f"{night!r} is not a date; use YYYY-MM-DD") from exc
    start = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
    settings = _settings()
    cfg = scheduler_config(settings)
    with db_session() as session:
        net = load_network(session, start, cfg, settings.heartbeat_stale_minutes, assume_clear=True)
    if not len(net.sites) or not len(net.targets):
        raise click.ClickException(
            "the network is empty: add sites and targets (or `datas demo seed`) first"
        )
    result = compare_strategies(net, start, cfg, SimulationSettings(step_minutes=step, seed=seed))
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    table = Table(
        title=f"Night of {result['night']}: {result['sites']} sites, "
        f"{result['targets']} targets, weather seed {seed}"
    )
    table.add_column("")
    table.add_column("network assignment")
    table.add_column("per-site greedy")
    a, b = result["network"], result["per_site_greedy"]
    for key in a:  # type: ignore[union-attr]
        table.add_row(key.replace("_", " "), str(a[key]), str(b[key]))  # type: ignore[index]
    out.print(table)
