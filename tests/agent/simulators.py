"""Start the real device simulators the agent tests drive, on free loopback ports.

`indi_server(drivers)`: Debian's indiserver with its simulator drivers. `alpaca_simulators(dir,
config)`: the alpaca-simulators package (FastAPI) with an optional configuration of our own
(e.g. `tap_source` pointing at a local SQLite star catalog so light frames work offline).
A missing part skips the test with how to install it, and fails it under CI=true.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks.harness import free_port
from tests.conftest import missing_system_part


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def indi_server(drivers: Iterable[str]) -> Iterator[str]:
    """indiserver with these drivers; yields indi://127.0.0.1:PORT."""
    if shutil.which("indiserver") is None:
        missing_system_part(
            "indiserver is missing: apt-get install indi-bin (scripts/system-packages.txt)"
        )
    try:
        import PyIndi  # noqa: F401
    except ImportError:
        missing_system_part(
            "pyindi-client is missing: pip install 'datas[indi]' (see docs/AGENT.md)"
        )
    drivers = list(drivers)
    for driver in drivers:
        if shutil.which(driver) is None:
            missing_system_part(f"{driver} is missing: apt-get install indi-bin")
    port = free_port()
    # The drivers keep their configuration and park state in ~/.indi: a fresh home each time.
    home = tempfile.mkdtemp(prefix="indi-home-")
    proc = subprocess.Popen(
        ["indiserver", "-p", str(port), *drivers],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HOME": home},
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("indiserver did not start") from None
                time.sleep(0.2)
        yield f"indi://127.0.0.1:{port}"
    finally:
        _stop(proc)
        shutil.rmtree(home, ignore_errors=True)


def alpaca_config(**top: Any) -> dict[str, Any]:
    """The simulators' own default configuration (their template), to adjust before starting."""
    try:
        import alpaca_simulators
    except ImportError:
        missing_system_part("alpaca-simulators is not installed: pip install alpaca-simulators")

    template = Path(alpaca_simulators.__file__).parent / "config" / "template.yaml"
    config: dict[str, Any] = yaml.safe_load(template.read_text())
    config.update(top)
    return config


def star_catalog(path: Path, fields: Iterable[tuple[float, float]], radius_deg: float) -> Path:
    """A Gaia-like SQLite catalog (ra, dec, phot_g_mean_mag) that cabaret, the simulators'
    image renderer, reads instead of querying Gaia online; stars from the agent simulator's
    synthetic sky, so the same field always has the same stars."""
    from site_agent.devices.simulator import catalog_near

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE gaia_sources (ra REAL, dec REAL, phot_g_mean_mag REAL)")
        for ra, dec in fields:
            stars = catalog_near(ra, dec, radius_deg)
            db.executemany(
                "INSERT INTO gaia_sources VALUES (?, ?, ?)", [tuple(map(float, s)) for s in stars]
            )
    return path


@contextmanager
def alpaca_simulators(workdir: Path, config: dict[str, Any] | None = None) -> Iterator[str]:
    """alpaca-simulators on 127.0.0.1; yields alpaca://127.0.0.1:PORT."""
    exe = shutil.which("alpaca-simulators") or str(
        Path(sys.executable).parent / "alpaca-simulators"
    )
    if not Path(exe).exists():
        missing_system_part("alpaca-simulators is not installed: pip install alpaca-simulators")
    port = free_port()
    args = [exe, "--host", "127.0.0.1", "--port", str(port)]
    if config is not None:
        path = workdir / "alpaca-simulators.yaml"  # an absolute path: read from here
        path.write_text(yaml.safe_dump(config))
        args += ["--config", str(path)]
    proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            try:
                # (its management API answers 404; a device endpoint tells it is up)
                probe = f"http://127.0.0.1:{port}/api/v1/telescope/0/connected"
                if httpx.get(probe, timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("alpaca-simulators did not start")
            time.sleep(0.3)
        yield f"alpaca://127.0.0.1:{port}"
    finally:
        _stop(proc)
