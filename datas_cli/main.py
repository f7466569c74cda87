"""`datas`: the operators' command line. Works on the database named by DATAS_DATABASE_URL."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.progress import Progress

from datas_cli.audit import record_cli
from datas_cli.common import (
    _settings,
    db_session,
    dump,
    emit,
    err,
    friendly_errors,
    json_option,
)


@click.group()
@click.version_option(package_name="datas")
def cli() -> None:
    """DATAS operator tools: database, server, keys, users, sites, targets, campaigns, schedule,
    frames, audit."""


# --- db -------------------------------------------------------------------------------------
@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Create or migrate the app database to the latest schema."""
    from datas_core.db.migrate import current_revision, upgrade

    url = _settings().resolved_database_url
    upgrade(url)
    click.echo(f"database at revision {current_revision(url)}")


# --- serve ----------------------------------------------------------------------------------
@cli.command()
@click.option("--host", default=None, help="Bind address (default DATAS_API_HOST, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default DATAS_API_PORT, 8000).")
@click.option("--workers", type=int, default=1, show_default=True, help="Server processes.")
@click.option("--access-log/--no-access-log", default=False, show_default=True)
def serve(host: str | None, port: int | None, workers: int, access_log: bool) -> None:
    """Run the HTTP API."""
    import uvicorn

    settings = _settings()
    uvicorn.run(
        "datas_api.main:app",
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=access_log,
        proxy_headers=True,
    )


# --- keys -----------------------------------------------------------------------------------
@cli.group()
def keys() -> None:
    """API keys (shown once, stored hashed)."""


@keys.command("create")
@click.option("--role", required=True, type=click.Choice(["admin", "site", "broker", "reader"]))
@click.option("--site", "site_id", default=None, help="Site the key writes for (role site).")
@click.option("--name", default=None, help="A label, e.g. who holds the key.")
@json_option
@friendly_errors
def keys_create(role: str, site_id: str | None, name: str | None, as_json: bool) -> None:
    """Create a key and print it once."""
    from datas_core.schemas.auth import KeyCreate
    from datas_core.services import auth

    with db_session() as session:
        row, full_key = auth.create_key(
            session,
            KeyCreate(role=role, site_id=site_id, name=name),  # type: ignore[arg-type]
        )
        key_id, stored_role, stored_site = row.key_id, row.role, row.site_id
        detail = {"role": row.role, "site_id": row.site_id, "name": row.name}  # never the secret
        record_cli(session, "key.create", "api_key", key_id, detail)
    if as_json:
        click.echo(
            json.dumps(
                {"key": full_key, "key_id": key_id, "role": stored_role, "site_id": stored_site}
            )
        )
        return
    click.echo(
        f"key_id: {key_id}  role: {stored_role}" + (f"  site: {stored_site}" if stored_site else "")
    )
    click.echo(full_key)
    err.print("[yellow]Store this key now: it is not shown again.[/yellow]")


@keys.command("revoke")
@click.argument("key_id")
@friendly_errors
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its key_id (the part after 'datas_')."""
    from datas_core.services import auth

    with db_session() as session:
        row = auth.revoke_key(session, key_id)
        detail = {"role": row.role, "site_id": row.site_id, "name": row.name}
        record_cli(session, "key.revoke", "api_key", row.key_id, detail)
        click.echo(f"revoked {row.key_id} ({row.role}) at {row.revoked_at:%Y-%m-%d %H:%M:%S}Z")


@keys.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@json_option
@friendly_errors
def keys_list(include_revoked: bool, as_json: bool) -> None:
    """List keys (never their secrets)."""
    from datas_core.schemas.auth import KeyOut
    from datas_core.services import auth

    with db_session() as session:
        rows = [dump(KeyOut, k) for k in auth.list_keys(session, include_revoked)]
    cols = ["key_id", "role", "site_id", "name", "created_at", "last_used_at", "revoked_at"]
    emit(rows, cols, as_json, "API keys")


# --- users ----------------------------------------------------------------------------------
@cli.group()
def users() -> None:
    """Dashboard users (people)."""


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "reader"]), default="reader", show_default=True)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (scripts)."
)
@json_option
@friendly_errors
def users_create(username: str, role: str, password_stdin: bool, as_json: bool) -> None:
    """Create a user; asks for the password twice unless --password-stdin."""
    from datas_core.schemas.auth import UserCreate, UserOut
    from datas_core.services import auth

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with db_session() as session:
        user = auth.create_user(
            session,
            UserCreate(username=username, password=password, role=role),  # type: ignore[arg-type]
        )
        row = dump(UserOut, user)
        detail = {"username": user.username, "role": user.role}  # never the password
        record_cli(session, "user.create", "user", user.user_id, detail)
    emit([row], ["user_id", "username", "role", "created_at"], as_json, "user created")


# --- sites ----------------------------------------------------------------------------------
@cli.group()
def sites() -> None:
    """Telescope sites."""


@sites.command("add")
@click.argument("site_id")
@click.option("--name", required=True)
@click.option("--lat", "latitude", type=float, required=True, help="Degrees, north positive.")
@click.option("--lon", "longitude", type=float, required=True, help="Degrees, east positive.")
@click.option("--elevation", "elevation_m", type=float, default=0.0, help="Metres.")
@click.option("--aperture", "aperture_mm", type=float, default=None, help="Millimetres.")
@click.option("--filters", default="", help="Comma-separated FITS filter names, e.g. B,V,R.")
@click.option("--fov", "fov_arcmin", type=float, default=None, help="Arcminutes.")
@click.option("--limiting-mag", type=float, default=None)
@click.option(
    "--automation", type=click.Choice(["manual", "assisted", "robotic"]), default="manual"
)
@click.option("--altitude-limit", type=float, default=20.0, show_default=True)
@click.option("--timezone", default=None, help="IANA name, e.g. Europe/Prague.")
@json_option
@friendly_errors
def sites_add(site_id: str, filters: str, as_json: bool, **fields: Any) -> None:
    """Register a site, e.g. `datas sites add ond-cz --name Ondrejov --lat 49.91 --lon 14.78`."""
    from datas_core.schemas.sites import SiteCreate, SiteOut
    from datas_core.services import sites as site_service

    fields["automation_level"] = fields.pop("automation")
    fields["altitude_limit_deg"] = fields.pop("altitude_limit")
    filter_list = [f.strip() for f in filters.split(",") if f.strip()]
    with db_session() as session:
        site = site_service.create_site(
            session, SiteCreate(site_id=site_id, filters=filter_list, **fields)
        )
        row = dump(SiteOut, site)
        detail = {"name": site.name, "latitude": site.latitude, "longitude": site.longitude}
        record_cli(session, "site.create", "site", site.site_id, detail)
    emit([row], ["site_id", "name", "latitude", "longitude", "filters"], as_json, "site added")


@sites.command("list")
@json_option
@friendly_errors
def sites_list(as_json: bool) -> None:
    """List sites with their heartbeat status."""
    from datas_core.schemas.sites import SiteOut
    from datas_core.services import sites as site_service

    stale = _settings().heartbeat_stale_minutes
    with db_session() as session:
        rows = []
        for start in range(0, 10**9, 1000):
            page = site_service.list_sites(session, limit=1000, offset=start)
            for s in page.items:
                row = dump(SiteOut, s)
                row["status"] = site_service.heartbeat_state(s.last_heartbeat_at, stale)
                rows.append(row)
            if page.next_offset is None:
                break
    cols = ["site_id", "name", "latitude", "longitude", "aperture_mm", "filters", "status"]
    emit(rows, cols, as_json, f"{len(rows)} sites")


# --- targets --------------------------------------------------------------------------------
@cli.group()
def targets() -> None:
    """Target catalog."""


@targets.command("add")
@click.argument("name")
@click.option("--ra", "ra_deg", required=True, help="Degrees, or hours as HH:MM:SS.")
@click.option("--dec", "dec_deg", required=True, help="Degrees, or DD:MM:SS.")
@click.option("--type", "target_type", default="other", show_default=True)
@click.option("--mag", "magnitude", type=float, default=None)
@click.option("--priority", type=float, default=5.0, show_default=True, help="0-10.")
@click.option("--cadence", "cadence_hours", type=float, default=None, help="Hours.")
@click.option("--filters", default="", help="Comma-separated required filters.")
@json_option
@friendly_errors
def targets_add(
    name: str, ra_deg: str, dec_deg: str, filters: str, as_json: bool, **kw: Any
) -> None:
    """Add one target."""
    from datas_core.schemas.targets import TargetCreate, TargetOut
    from datas_core.services import targets as target_service
    from datas_core.services.target_import import parse_angle

    try:
        ra = parse_angle(ra_deg, hours=":" in ra_deg or " " in ra_deg.strip())
        dec = parse_angle(dec_deg, hours=False)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    item = TargetCreate(
        name=name,
        ra_deg=ra,
        dec_deg=dec,
        filters=[f.strip() for f in filters.split(",") if f.strip()],
        **kw,
    )
    with db_session() as session:
        target = target_service.create_target(session, item)
        row = dump(TargetOut, target)
        detail = {"name": target.name, "ra_deg": target.ra_deg, "dec_deg": target.dec_deg}
        record_cli(session, "target.create", "target", target.target_id, detail)
    emit([row], ["target_id", "name", "ra_deg", "dec_deg", "priority"], as_json, "target added")


@targets.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--skip-bad-rows",
    is_flag=True,
    help="Import the good rows and report the bad ones (default: import nothing if any is bad).",
)
@json_option
@friendly_errors
def targets_import(csv_file: Path, skip_bad_rows: bool, as_json: bool) -> None:
    """Import targets from CSV (columns: name,ra_deg,dec_deg and any target field)."""
    from datas_core.services.target_import import import_targets_csv

    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{csv_file} is not UTF-8 text: {exc}") from exc
    with db_session() as session, Progress(console=err, transient=True) as progress:
        task = progress.add_task(f"importing {csv_file.name}", total=max(text.count("\n"), 1))
        report = import_targets_csv(
            session,
            text,
            skip_bad_rows=skip_bad_rows,
            progress=lambda n: progress.advance(task, n),
        )
        if report.applied and report.imported:
            detail = {"file": csv_file.name, "rows": report.rows, "imported": report.imported}
            record_cli(session, "target.import", "target", None, detail)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "rows": report.rows,
                    "imported": report.imported,
                    "applied": report.applied,
                    "errors": [{"line": e.line, "message": e.message} for e in report.errors],
                },
                indent=2,
            )
        )
    else:
        for e in report.errors:
            err.print(f"line {e.line}: {e.message}", markup=False, highlight=False)
        click.echo(f"{report.imported} of {report.rows} rows imported from {csv_file}")
    if report.errors and not report.applied:
        raise click.ClickException(
            f"{len(report.errors)} bad row(s); nothing was imported. Fix them, or pass "
            "--skip-bad-rows to import the good rows only"
        )


@targets.command("list")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--offset", type=int, default=0)
@click.option("--campaign", default=None, help="Campaign id or name.")
@click.option("--priority-min", type=float, default=None)
@json_option
@friendly_errors
def targets_list(
    limit: int, offset: int, campaign: str | None, priority_min: float | None, as_json: bool
) -> None:
    """List active targets, highest priority first."""
    from datas_core.schemas.targets import TargetOut
    from datas_core.services import campaigns as campaign_service
    from datas_core.services import targets as target_service

    with db_session() as session:
        cid = campaign_service.find_campaign(session, campaign).campaign_id if campaign else None
        page = target_service.list_targets(
            session, limit=limit, offset=offset, campaign_id=cid, priority_min=priority_min
        )
        rows = [dump(TargetOut, t) for t in page.items]
    cols = ["target_id", "name", "ra_deg", "dec_deg", "target_type", "magnitude", "priority"]
    emit(rows, cols, as_json, f"targets {offset + 1}-{offset + len(rows)} of {page.total}")


# --- campaigns ------------------------------------------------------------------------------
@cli.group()
def campaigns() -> None:
    """Campaigns."""


@campaigns.command("add")
@click.argument("name")
@click.option("--description", default=None)
@click.option("--boost", "priority_boost", type=float, default=1.0, show_default=True)
@click.option("--redundancy", type=click.Choice(["diverse", "simultaneous"]), default="diverse")
@json_option
@friendly_errors
def campaigns_add(name: str, as_json: bool, **kw: Any) -> None:
    """Create a campaign."""
    from datas_core.schemas.campaigns import CampaignCreate, CampaignOut
    from datas_core.services import campaigns as campaign_service

    with db_session() as session:
        item = CampaignCreate(name=name, **kw)
        campaign = campaign_service.create_campaign(session, item)
        row = dump(CampaignOut, campaign)
        detail = item.model_dump(mode="json")
        record_cli(session, "campaign.create", "campaign", campaign.campaign_id, detail)
    emit([row], ["campaign_id", "name", "redundancy", "priority_boost"], as_json, "campaign added")


@campaigns.command("add-targets")
@click.argument("campaign")
@click.argument("target_refs", nargs=-1, required=True)
@friendly_errors
def campaigns_add_targets(campaign: str, target_refs: tuple[str, ...]) -> None:
    """Add targets (by id, name or alias) to a campaign (by id or name)."""
    from datas_core.services import audit as audit_service
    from datas_core.services import campaigns as campaign_service
    from datas_core.services import targets as target_service

    with db_session() as session:
        c = campaign_service.find_campaign(session, campaign)
        ids = [target_service.find_target(session, ref).target_id for ref in target_refs]
        added = campaign_service.add_targets(session, c.campaign_id, ids)
        detail = audit_service.membership_detail(ids, added)
        record_cli(session, "campaign.add_targets", "campaign", c.campaign_id, detail)
        click.echo(f"{added} target(s) added to {c.name!r} ({len(ids) - added} already in it)")


@campaigns.command("list")
@json_option
@friendly_errors
def campaigns_list(as_json: bool) -> None:
    """List campaigns with their target counts."""
    from datas_core.schemas.campaigns import CampaignOut
    from datas_core.services import campaigns as campaign_service

    with db_session() as session:
        page, counts = campaign_service.list_campaigns(session, limit=1000)
        rows = [
            {**dump(CampaignOut, c), "target_count": counts.get(c.campaign_id, 0)}
            for c in page.items
        ]
    cols = ["campaign_id", "name", "redundancy", "priority_boost", "target_count"]
    emit(rows, cols, as_json, "campaigns")


# --- demo -----------------------------------------------------------------------------------
@cli.group()
def demo() -> None:
    """The demo network."""


@demo.command("seed")
@json_option
@friendly_errors
def demo_seed(as_json: bool) -> None:
    """Add the demo sites, targets and campaigns (skips what is already there)."""
    from dataclasses import asdict

    from datas_core.demo.seed import seed_demo

    with db_session() as session:
        report = seed_demo(session)
        if report.sites_added or report.targets_added or report.campaigns_added:
            record_cli(session, "demo.seed", "network", None, asdict(report))
    if as_json:
        click.echo(json.dumps(asdict(report)))
    else:
        click.echo(
            f"demo network: +{report.sites_added} sites, +{report.targets_added} targets, "
            f"+{report.campaigns_added} campaigns ({report.campaign_members_added} memberships)"
        )


def _register_up() -> None:
    from datas_cli.audit import audit
    from datas_cli.demo_agents import demo_agents_command
    from datas_cli.frames import frames
    from datas_cli.schedule import schedule
    from datas_cli.up import up

    cli.add_command(up)
    cli.add_command(audit)
    cli.add_command(schedule)
    cli.add_command(frames)
    cli.add_command(demo_agents_command)


_register_up()


if __name__ == "__main__":
    cli()
