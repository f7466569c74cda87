"""Simulated site agents for the demo network: what `datas up` runs so the network observes.

Each demo site gets the real site agent (site_agent.executor.Agent) over the simulator driver,
one thread per site in this one process (23 agent processes would cost gigabytes). They talk to
the API over HTTP like any site: heartbeats, ranked lists, observations and FITS frames, which
Dagster then reduces. `DATAS_DEMO_SPEEDUP` (default 5) makes slews and exposures take that many
times less wall time; timestamps stay real, so the network observes where it is night now. A
bounded random walk of cloud cover per site drives the simulator's weather, so some sites cloud
over and park.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

log = logging.getLogger("datas.demo")

DEFAULT_SPEEDUP = 5.0
DEFAULT_CONTROL_PORT = 8800  # demo site N listens on 127.0.0.1:(8800 + N)
WEATHER_STEP_SECONDS = 60.0  # simulated seconds between cloud-cover steps
IDLE_SECONDS = 10.0
DEMO_FRAME_PIXELS = 256


def speedup_from_env() -> float:
    raw = os.environ.get("DATAS_DEMO_SPEEDUP", str(DEFAULT_SPEEDUP))
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 1.0 <= value <= 1000.0:
        raise click.ClickException(
            f"DATAS_DEMO_SPEEDUP={raw!r}: give a number from 1 (real time) to 1000"
        )
    return value


def ensure_site_keys(db_url: str, key_file: Path) -> dict[str, str]:
    """A site key per active demo site, kept in key_file (0600), reused while it still works."""
    from datas_cli.audit import record_cli
    from datas_core.db import make_engine, make_session_factory, session_scope
    from datas_core.errors import Unauthorized
    from datas_core.schemas.auth import KeyCreate
    from datas_core.services import auth

    known: dict[str, str] = {}
    if key_file.exists():
        try:
            known = {str(k): str(v) for k, v in json.loads(key_file.read_text()).items()}
        except (ValueError, AttributeError):
            known = {}  # unreadable: mint new keys below
    engine = make_engine(db_url)
    keys: dict[str, str] = {}
    try:
        with session_scope(make_session_factory(engine)) as session:
            for site_id in active_demo_sites(session):
                key = known.get(site_id)
                if key:
                    try:
                        principal = auth.authenticate_key(session, key)[0]
                        if principal.role == "site" and principal.site_id == site_id:
                            keys[site_id] = key
                            continue
                    except Unauthorized:
                        pass
                row, key = auth.create_key(
                    session, KeyCreate(role="site", site_id=site_id, name="datas up demo agent")
                )
                detail = {"role": "site", "site_id": site_id, "name": row.name}
                record_cli(session, "key.create", "api_key", row.key_id, detail)
                keys[site_id] = key
    finally:
        engine.dispose()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(json.dumps(keys, indent=1))
    key_file.chmod(0o600)
    return keys


def active_demo_sites(session: Any) -> list[str]:
    from sqlalchemy import select

    from datas_core.db.models import Site
    from datas_core.demo.seed import demo_site_ids

    wanted = demo_site_ids()
    stmt = select(Site.site_id).where(Site.site_id.in_(wanted), Site.active.is_(True))
    return sorted(session.scalars(stmt))


def site_config(
    site_id: str,
    key: str,
    api_url: str,
    state_dir: Path,
    speedup: float,
    control_port: int,
    upload_frames: bool = True,
) -> Any:
    from site_agent.config import SiteConfig

    return SiteConfig.model_validate(
        {
            "site_id": site_id,
            "server": {"url": api_url, "key": key, "timeout_seconds": 30},
            "driver": "simulator",
            "state_dir": str(state_dir),
            "poll_seconds": 30,
            "heartbeat_seconds": 30,
            "control_port": control_port,
            "safety": {"holdoff_seconds": 600 / speedup, "min_free_disk_mb": 200},
            # Frames go to the server (reduced there) and are not kept twice on this disk.
            "outbox": {"upload_frames": upload_frames, "keep_frames": False, "max_mb": 200},
            "simulator": {"time_factor": 1.0 / speedup},
            "error_holdoff_seconds": 60,
        }
    )


@dataclass
class CloudWalk:
    """Cloud cover per site: a bounded random walk; a few sites start overcast."""

    rng: random.Random

    def start(self, index: int) -> float:
        return 90.0 if index % 7 == 3 else self.rng.uniform(0, 40)

    def step(self, cloud: float) -> float:
        return min(100.0, max(0.0, cloud + self.rng.gauss(0, 6)))


class DemoSite:
    """One demo site: its agent, its loop thread and its weather."""

    def __init__(self, config: Any, cloud: float, speedup: float, stop: threading.Event) -> None:
        from site_agent.runner import build_agent

        self.config = config
        self.agent = build_agent(config)
        self.options = self.agent.devices.weather.options  # the simulator's knobs
        self.options.cloud_pct = cloud
        # A small camera: 128 KB frames keep a demo left running from filling the disk.
        self.options.width = self.options.height = DEMO_FRAME_PIXELS
        self.speedup = speedup
        self.stop = stop
        self.thread = threading.Thread(target=self._loop, name=config.site_id, daemon=True)
        self.control: Any = None

    def start(self) -> None:
        from site_agent.control import ControlPortBusy, ControlServer

        try:
            self.control = ControlServer(self.agent, self.config.control_port, self.stop)
            self.control.start()
        except ControlPortBusy as exc:  # the demo still runs; only its status port is missing
            log.warning("demo agent %s: %s", self.config.site_id, exc)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                report = self.agent.cycle()
            except Exception:  # never expected (cycle catches); the demo must keep running
                log.exception("demo agent %s: cycle failed", self.config.site_id)
                report = None
            if report is None or not report.observed:
                self.stop.wait(IDLE_SECONDS / min(self.speedup, 5.0))

    def close(self) -> None:
        self.thread.join(timeout=30)
        try:
            self.agent._park_and_hold(["demo stopped"])
        finally:
            if self.control is not None:
                self.control.close()
            self.agent.close()


def run_demo_agents(
    db_url: str, api_url: str, home: Path, speedup: float, control_port: int, seed: int = 1
) -> None:
    """Run every active demo site's agent until SIGTERM/SIGINT."""
    import signal

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    root = home / "demo-agents"
    keys = ensure_site_keys(db_url, root / "keys.json")
    site_ids = sorted(keys)
    walk = CloudWalk(random.Random(seed))
    sites = []
    for index, site_id in enumerate(site_ids):
        # Half the sites upload their frames (reduced by the pipeline), half only their own
        # photometry, as in a real network of mixed automation.
        config = site_config(
            site_id,
            keys[site_id],
            api_url,
            root / site_id,
            speedup,
            control_port + index,
            upload_frames=index % 2 == 0,
        )
        sites.append(DemoSite(config, walk.start(index), speedup, stop))
    for site in sites:
        site.start()
    click.echo(
        f"{len(sites)} demo agents running (speed-up {speedup:g}; status ports "
        f"{control_port}-{control_port + len(sites) - 1})",
        err=True,
    )
    try:
        while not stop.wait(WEATHER_STEP_SECONDS / speedup):
            for site in sites:
                site.options.cloud_pct = walk.step(site.options.cloud_pct)
    finally:
        for site in sites:
            site.close()


@click.command("demo-agents", hidden=True)
@click.option("--api-url", required=True)
@click.option("--control-port", type=int, default=DEFAULT_CONTROL_PORT, show_default=True)
def demo_agents_command(api_url: str, control_port: int) -> None:
    """Run the demo sites' simulated agents (started by `datas up`)."""
    from datas_core.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(threadName)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise here
    settings = get_settings()
    run_demo_agents(
        settings.resolved_database_url, api_url, settings.home_dir, speedup_from_env(), control_port
    )
