"""`datas up` (what `make run` runs) as a newcomer meets it: fresh starts that load Dagster's code
location every time, a restart on the same state, the demo agents observing, a broken part
stopping everything with a message, and Ctrl-C stopping everything cleanly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from benchmarks.harness import free_port
from datas_cli.dagster_home import location_status

ROOT = Path(__file__).resolve().parents[2]
FRESH_STARTS = int(os.environ.get("DATAS_UP_FRESH_STARTS", "3"))


@contextmanager
def datas_up(home: Path, *args: str, cwd: Path = ROOT, speedup: str = "50") -> Iterator[dict]:
    api_port, dagster_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATAS_HOME": str(home),
        "DATAS_API_PORT": str(api_port),
        "DATAS_DAGSTER_PORT": str(dagster_port),
        "DATAS_DEMO_SPEEDUP": speedup,
    }
    env.pop("DAGSTER_HOME", None)
    out = home.parent / f"{home.name}-up.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "datas_cli.main", "up", *args],
            cwd=cwd,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        info = {
            "proc": proc,
            "out": out,
            "api": f"http://127.0.0.1:{api_port}",
            "dagster": f"http://127.0.0.1:{dagster_port}",
        }
        try:
            yield info
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def wait_for_banner(info: dict, timeout: float = 240) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = info["out"].read_text(errors="replace")
        if "Ctrl-C stops everything" in text:
            return text
        if info["proc"].poll() is not None:
            pytest.fail(f"datas up exited {info['proc'].returncode}:\n{text[-3000:]}")
        time.sleep(1)
    pytest.fail(f"datas up did not come up in {timeout} s:\n{info['out'].read_text()[-3000:]}")


def stop_cleanly(info: dict) -> str:
    info["proc"].send_signal(signal.SIGINT)
    assert info["proc"].wait(timeout=60) == 0
    text = info["out"].read_text(errors="replace")
    assert "stopped cleanly" in text
    return text


def test_fresh_starts_always_load_the_code_location_and_restart_on_the_same_state(
    tmp_path: Path,
) -> None:
    for attempt in range(FRESH_STARTS):
        home = tmp_path / f"fresh{attempt}"
        with datas_up(home, "--no-demo-agents") as info:
            wait_for_banner(info)
            loaded, problem = location_status(info["dagster"])
            assert loaded and problem is None, problem
            stop_cleanly(info)
    # The same state again: storage exists, migrations are no-ops, the location still loads.
    with datas_up(tmp_path / "fresh0", "--no-demo-agents") as info:
        wait_for_banner(info)
        assert location_status(info["dagster"]) == (True, None)
        assert "seeded demo network" not in info["out"].read_text()
        stop_cleanly(info)
    leftovers = subprocess.run(
        ["pgrep", "-f", str(tmp_path)], capture_output=True, text=True
    ).stdout.split()
    assert leftovers == [], "Ctrl-C left processes running"


def test_demo_agents_observe_and_report(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    with datas_up(home, "--no-dagster") as info:
        text = wait_for_banner(info)
        assert "Demo agents" in text
        key = (home / "admin.key").read_text().strip()
        headers = {"Authorization": f"Bearer {key}"}
        deadline = time.monotonic() + 180
        observed = 0
        while time.monotonic() < deadline and observed == 0:
            time.sleep(5)
            page = httpx.get(f"{info['api']}/api/v1/observations?limit=1", headers=headers)
            observed = page.json()["total"]
        assert observed > 0, "no demo site observed in 3 minutes"
        db = sqlite3.connect(home / "datas.db")
        try:
            rows = db.execute("SELECT DISTINCT site_id, agent_version FROM site_status").fetchall()
        finally:
            db.close()
        reporting = {site for site, version in rows if version != "demo-weather"}
        assert len(reporting) >= 20, f"only {len(reporting)} demo agents sent heartbeats"
        stop_cleanly(info)


def test_a_part_that_cannot_start_stops_everything_with_a_message(tmp_path: Path) -> None:
    """A code location that does not load: a non-zero exit that says so, nothing left running."""
    cwd = tmp_path / "project"
    cwd.mkdir()
    (cwd / "workspace.yaml").write_text(
        "load_from:\n  - python_module:\n      module_name: no_such_module_here\n"
        "      location_name: datas\n"
    )
    with datas_up(tmp_path / "broken", "--no-demo-agents", cwd=cwd) as info:
        assert info["proc"].wait(timeout=300) == 1
        text = info["out"].read_text()
        assert "cannot load the DATAS pipelines" in text and "no_such_module_here" in text
        assert "Ctrl-C stops everything" not in text  # no URLs printed as if all was well
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{info['api']}/healthz", timeout=2)
