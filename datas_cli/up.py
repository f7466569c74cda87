"""`datas up`: the whole system on one machine (what `make run` calls).

API and Dagster webserver and daemon run as separate child processes in their own process
groups, so Ctrl-C reaches only this supervisor, which stops them in order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx

from datas_cli.dagster_home import DagsterNotReady, prepare_home
from datas_cli.demo_agents import speedup_from_env

STOP_TIMEOUT_S = 15.0


def _admin_key(session_factory_url: str, key_file: Path) -> str:
    """Reuse the key in .datas/admin.key if it is still valid, else mint a new one."""
    from datas_cli.audit import record_cli
    from datas_core.db import make_engine, make_session_factory, session_scope
    from datas_core.errors import Unauthorized
    from datas_core.schemas.auth import KeyCreate
    from datas_core.services import auth

    engine = make_engine(session_factory_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            if key_file.exists():
                key = key_file.read_text().strip()
                try:
                    if auth.authenticate_key(session, key)[0].role == "admin":
                        return key
                except Unauthorized:
                    pass
            row, key = auth.create_key(session, KeyCreate(role="admin", name="datas up (local)"))
            detail = {"role": row.role, "site_id": None, "name": row.name}
            record_cli(session, "key.create", "api_key", row.key_id, detail)
    finally:
        engine.dispose()
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key


def _log_tail(log: Path, lines: int = 8) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line for line in text[-lines:])


def _died(what: str, proc: subprocess.Popen[bytes], log: Path) -> click.ClickException:
    return click.ClickException(
        f"{what} exited with status {proc.returncode}; the end of {log}:\n{_log_tail(log)}"
    )


def _wait_http(
    url: str, proc: subprocess.Popen[bytes], what: str, timeout: float, log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise _died(what, proc, log)
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise click.ClickException(f"{what} did not answer at {url} within {timeout:.0f} s; see {log}")


def _wait_code_location(
    dagster_url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    """Dagster's UI answers before (and even when) the code fails to load: ask it."""
    from datas_cli.dagster_home import location_status

    deadline = time.monotonic() + timeout
    problem = "it did not report its code location"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise _died("the Dagster webserver", proc, log)
        loaded, problem = location_status(dagster_url)
        if loaded:
            return
        if problem and "failed to load" in problem:
            break
        time.sleep(1.0)
    raise click.ClickException(
        f"Dagster is up but cannot load the DATAS pipelines: {problem}. See {log}; "
        "`datas up --no-dagster` runs the rest without it"
    )


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for name, proc in procs.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            click.echo(f"{name} did not stop in {STOP_TIMEOUT_S:.0f} s; killing it", err=True)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class _DemoWeatherLoop:
    """Heartbeats for the demo sites once a minute (see datas_core.demo.weather)."""

    def __init__(self, url: str) -> None:
        from datas_core.db import make_engine, make_session_factory
        from datas_core.demo.weather import DemoWeather

        self.factory = make_session_factory(make_engine(url))
        self.weather = DemoWeather()
        self.next_at = 0.0

    def tick(self) -> None:
        from datas_core.db import session_scope

        if time.monotonic() < self.next_at:
            return
        self.next_at = time.monotonic() + 60.0
        try:
            with session_scope(self.factory) as session:
                self.weather.report(session)
        except Exception as exc:  # a busy database must not stop the whole system
            click.echo(f"demo weather: heartbeat skipped ({exc})", err=True)


@click.command()
@click.option("--no-demo", is_flag=True, help="Do not seed the demo network.")
@click.option("--no-dagster", is_flag=True, help="Run only the API.")
@click.option(
    "--no-demo-weather",
    is_flag=True,
    help="Do not send simulated heartbeats for the demo sites (they are then never scheduled).",
)
@click.option(
    "--no-demo-agents",
    is_flag=True,
    help="Do not run simulated site agents for the demo sites (DATAS_DEMO_SPEEDUP sets their "
    "speed, default 10).",
)
def up(no_demo: bool, no_dagster: bool, no_demo_weather: bool, no_demo_agents: bool) -> None:
    """Run API + Dagster on the embedded default, with the demo network; Ctrl-C stops all."""
    from datas_core.db.migrate import upgrade
    from datas_core.settings import get_settings

    settings = get_settings()
    home = settings.home_dir
    home.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    upgrade(url)
    if not no_demo:
        from dataclasses import asdict

        from datas_cli.audit import record_cli
        from datas_core.db import make_engine, make_session_factory, session_scope
        from datas_core.demo.seed import seed_demo

        engine = make_engine(url)
        with session_scope(make_session_factory(engine)) as session:
            report = seed_demo(session)
            if report.sites_added or report.targets_added or report.campaigns_added:
                record_cli(session, "demo.seed", "network", None, asdict(report))
        engine.dispose()
        if report.sites_added or report.targets_added:
            click.echo(
                f"seeded demo network: {report.sites_added} sites, "
                f"{report.targets_added} targets, {report.campaigns_added} campaigns"
            )
    key = _admin_key(url, home / "admin.key")

    env = dict(os.environ)
    dagster_home = home / "dagster"
    env["DAGSTER_HOME"] = str(dagster_home)
    demo_agents = not (no_demo or no_demo_agents)
    speedup = speedup_from_env() if demo_agents else 1.0
    if not no_dagster:
        try:
            prepare_home(dagster_home, Path("dagster.yaml"), env)
        except DagsterNotReady as exc:
            raise click.ClickException(str(exc)) from exc
    env["DATAS_HOME"] = str(home)
    env.setdefault("DATAS_DATABASE_URL", url)
    workspace = (
        ["-w", "workspace.yaml"]
        if Path("workspace.yaml").exists()
        else ["-m", "datas_pipelines.definitions", "-l", "datas"]
    )
    bin_dir = Path(sys.executable).parent
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    dagster_url = f"http://127.0.0.1:{settings.dagster_port}"
    commands = {
        "api": [
            sys.executable,
            "-m",
            "uvicorn",
            "datas_api.main:app",
            "--host",
            settings.api_host,
            "--port",
            str(settings.api_port),
            "--log-level",
            "warning",
        ],
    }
    if not no_dagster:
        commands["dagster-webserver"] = [
            str(bin_dir / "dagster-webserver"),
            "-h",
            "127.0.0.1",
            "-p",
            str(settings.dagster_port),
            *workspace,
        ]
        commands["dagster-daemon"] = [str(bin_dir / "dagster-daemon"), "run", *workspace]
    if demo_agents:
        commands["demo-agents"] = [
            sys.executable,
            "-m",
            "datas_cli.main",
            "demo-agents",
            "--api-url",
            api_url,
        ]
    logs = home / "logs"
    logs.mkdir(exist_ok=True)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    def start(name: str) -> None:
        log = open(logs / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        procs[name] = subprocess.Popen(
            commands[name], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log_of(name: str) -> Path:
        return logs / f"{name}.log"

    try:
        start("api")
        _wait_http(f"{api_url}/healthz", procs["api"], "the API", 60, log_of("api"))
        if not no_dagster:
            start("dagster-webserver")
            start("dagster-daemon")
            web = procs["dagster-webserver"]
            _wait_http(
                f"{dagster_url}/server_info", web, "Dagster", 180, log_of("dagster-webserver")
            )
            _wait_code_location(dagster_url, web, log_of("dagster-webserver"), 180)
        if demo_agents:
            start("demo-agents")
        click.echo("")
        click.echo(
            f"  Dashboard     {api_url}/dashboard   "
            "(make a login first: .venv/bin/datas users create NAME --role admin)"
        )
        click.echo(f"  DATAS API     {api_url}   (OpenAPI: {api_url}/docs)")
        if not no_dagster:
            click.echo(f"  Dagster UI    {dagster_url}")
        click.echo(f"  Admin key     {key}")
        click.echo(f"  Logs          {logs}")
        if demo_agents:
            click.echo(
                f"  Demo agents   simulated telescopes at the demo sites, {speedup:g}x real time "
                "(--no-demo-agents to leave them off)"
            )
        click.echo(f"  Try: curl -H 'Authorization: Bearer {key}' {api_url}/api/v1/sites")
        click.echo("  Ctrl-C stops everything.\n")
        # The demo agents send real heartbeats; the weather loop stands in only without them.
        weather = None if (no_demo or no_demo_weather or demo_agents) else _DemoWeatherLoop(url)
        while not stopping:
            if weather is not None:
                weather.tick()
            for name, proc in procs.items():
                if proc.poll() is not None:
                    raise click.ClickException(
                        f"{name} stopped unexpectedly, so everything was stopped. "
                        f"{_died(name, proc, log_of(name)).message}\nFix it and run "
                        "`make run` again (the same state is reused)"
                    )
            time.sleep(0.5)
        click.echo("stopping ...")
    finally:
        _stop(procs)
    click.echo("stopped cleanly")
