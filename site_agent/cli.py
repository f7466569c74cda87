"""`datas-agent`: the site owner's command (init, check, run, once, status, pause, resume, stop,
discover, outbox)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import httpx

from datas_core import __version__
from site_agent.cli_options import config_option
from site_agent.cli_options import load as _load
from site_agent.config import ConfigError, load_config
from site_agent.outbox_cli import outbox
from site_agent.template import render


@click.group()
@click.version_option(__version__, prog_name="datas-agent")
def main() -> None:
    """DATAS site agent: observes what the network asks, safely, online or offline."""


@main.command()
@click.option("--server", required=True, help="The DATAS server, e.g. http://127.0.0.1:8000")
@click.option("--key", required=True, help="This site's key (datas keys create --role site).")
@click.option("--site-id", required=True, help="The site's id on the server.")
@click.option(
    "--driver",
    type=click.Choice(["simulator", "alpaca", "indi"]),
    default="simulator",
    show_default=True,
)
@click.option("--device-url", default=None, help="alpaca://HOST:PORT or indi://HOST:PORT")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), default=Path("site.yaml"), show_default=True
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(
    server: str,
    key: str,
    site_id: str,
    driver: str,
    device_url: str | None,
    output: Path,
    force: bool,
) -> None:
    """Write a commented, working site.yaml."""
    if output.exists() and not force:
        raise click.ClickException(f"{output} exists; use --force to overwrite it")
    output.write_text(render(site_id, server, key, driver, device_url, output.name))
    output.chmod(0o600)  # it holds the key
    try:
        load_config(output)
    except ConfigError as exc:
        raise click.ClickException(f"the written file does not validate:\n{exc}") from exc
    click.echo(f"wrote {output}; check it with: datas-agent check -c {output}")


main.add_command(outbox)


@main.command()
@config_option
def check(config_path: Path) -> None:
    """Validate site.yaml, reach the server with the key, and report every device."""
    from site_agent.devices.base import DeviceError
    from site_agent.runner import build_devices

    config = _load(config_path)
    click.echo(f"config {config_path}: ok (site {config.site_id}, driver {config.driver})")
    problems = 0
    try:
        me = httpx.get(
            f"{config.server.url}/api/v1/auth/me",
            timeout=config.server.timeout_seconds,
            headers={"Authorization": f"Bearer {config.server.key}"},
        )
        who = me.json() if me.status_code == 200 else None
        if who is None:
            problems += 1
            click.echo(f"server {config.server.url}: refused the key ({me.status_code})")
        elif who.get("role") != "site" or who.get("site_id") != config.site_id:
            problems += 1
            click.echo(
                f"server: the key is for role={who.get('role')} site={who.get('site_id')},"
                f" not site {config.site_id}; create one with "
                f"`datas keys create --role site --site {config.site_id}`"
            )
        else:
            click.echo(f"server {config.server.url}: ok (key {who['id']} for {config.site_id})")
    except (httpx.HTTPError, ValueError) as exc:
        problems += 1
        click.echo(f"server {config.server.url}: unreachable ({type(exc).__name__}: {exc})")
    try:
        devices = build_devices(config)
        for name, status in devices.statuses().items():
            if status.state in ("error", "out-of-range"):  # either keeps the agent parked
                problems += 1
            click.echo(f"{name}: {status.state}{' - ' + status.message if status.message else ''}")
    except DeviceError as exc:
        problems += 1
        click.echo(f"devices: {exc}")
    sys.exit(1 if problems else 0)


@main.command()
@config_option
def once(config_path: Path) -> None:
    """One full cycle (safety, targets, observe, upload), for testing."""
    from site_agent.logs import setup_logging
    from site_agent.runner import build_agent

    config = _load(config_path)
    setup_logging(config.state_dir)
    agent = build_agent(config)
    try:
        report = agent.cycle()
    finally:
        agent.close()
    click.echo(json.dumps(report.__dict__, default=str))


@main.command()
@config_option
def run(config_path: Path) -> None:
    """Run until stopped (Ctrl-C or `datas-agent stop`)."""
    from site_agent.control import ControlPortBusy
    from site_agent.logs import setup_logging
    from site_agent.runner import build_agent, run_forever

    config = _load(config_path)
    log_path = setup_logging(config.state_dir)
    click.echo(f"logging to {log_path}")
    try:
        run_forever(build_agent(config))
    except ControlPortBusy as exc:
        raise click.ClickException(str(exc)) from exc


def _control(config_path: Path, command: str) -> None:
    from site_agent.control import send

    config = _load(config_path)
    try:
        click.echo(json.dumps(send(config.control_port, command), indent=2))
    except ConnectionError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@config_option
def status(config_path: Path) -> None:
    """State, safety reasons and outbox of the running agent."""
    _control(config_path, "status")


@main.command()
@config_option
def pause(config_path: Path) -> None:
    """Park and stay parked until resumed."""
    _control(config_path, "pause")


@main.command()
@config_option
def resume(config_path: Path) -> None:
    """Resume observing after a pause."""
    _control(config_path, "resume")


@main.command()
@config_option
def stop(config_path: Path) -> None:
    """Park and stop the running agent."""
    _control(config_path, "stop")


@main.command()
@click.option("--timeout", default=2.0, show_default=True, help="Seconds to wait for each answer.")
def discover(timeout: float) -> None:
    """List ASCOM Alpaca servers on the LAN (UDP 32227) and the devices each serves."""
    from site_agent.devices.alpaca_driver import discover as find_servers

    try:
        servers = find_servers(timeout)
    except ImportError as exc:
        raise click.ClickException(
            f"discovery needs alpyca: pip install 'datas[agent]' ({exc})"
        ) from exc
    if not servers:
        click.echo(
            "no Alpaca server answered discovery on UDP 32227; is it running, with discovery "
            "enabled, on this network (not behind a router or firewall)?"
        )
        sys.exit(1)
    for server in servers:
        click.echo(f"alpaca://{server.address}  ({len(server.devices)} devices, {server.how})")
        for kind, number, name in server.devices:
            click.echo(f"  {kind} {number}: {name}")
        click.echo(f"  use: --device-url alpaca://{server.address}")


@main.command()
@click.option("--server", envvar="DATAS_SERVER_URL", required=True, help="e.g. http://host:8000")
@click.option("--key", envvar="DATAS_SITE_KEY", required=True, help="The site's API key.")
def ping(server: str, key: str) -> None:
    """Check the server answers and the key is valid (prints role and site)."""
    try:
        health = httpx.get(f"{server.rstrip('/')}/healthz", timeout=10)
        me = httpx.get(
            f"{server.rstrip('/')}/api/v1/auth/me",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
    except httpx.HTTPError as exc:
        click.echo(f"cannot reach {server}: {exc}", err=True)
        sys.exit(2)
    if me.status_code != 200:
        message = (
            me.json().get("message", me.text)
            if me.headers.get("content-type", "").startswith("application/json")
            else me.text
        )
        click.echo(f"server {server} refused the key ({me.status_code}): {message}", err=True)
        sys.exit(1)
    who = me.json()
    click.echo(
        f"server {server}: {health.json().get('status')} (v{health.json().get('version')}); "
        f"key {who['id']} role={who['role']} site={who.get('site_id')}"
    )
