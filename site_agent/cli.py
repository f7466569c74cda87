"""`datas-agent`: the site owner's command. Hardware control arrives with the site-agent issue;
today it checks that a site can reach its server with its key."""

from __future__ import annotations

import sys

import click
import httpx

from datas_core import __version__


@click.group()
@click.version_option(__version__, prog_name="datas-agent")
def main() -> None:
    """DATAS site agent."""


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
