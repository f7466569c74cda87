"""What every `datas-agent` command that reads site.yaml shares."""

from __future__ import annotations

from pathlib import Path

import click

from site_agent.config import ConfigError, SiteConfig, load_config

config_option = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=Path("site.yaml"),
    show_default=True,
    help="The site's configuration file.",
)


def load(path: Path) -> SiteConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
