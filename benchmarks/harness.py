"""Shared benchmark plumbing: fresh databases, a real API server process, a load generator
in a separate process, and JSON output."""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np

PG_ADMIN_URL = os.environ.get(
    "DATAS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """A migrated, empty database on `backend` ('sqlite' or 'postgresql'), removed afterwards."""
    from datas_core.db.migrate import upgrade

    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            yield url
        return
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"datas_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_available() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_ADMIN_URL, connect_timeout=3).close()
        return True
    except Exception:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def api_server(db_url: str, workers: int = 1, home: str | None = None) -> Iterator[str]:
    """The API in its own process(es), exactly as `datas serve --workers N` runs it."""
    port = free_port()
    home = home or tempfile.mkdtemp()
    env = {
        **os.environ,
        "DATAS_DATABASE_URL": db_url,
        "DATAS_HOME": home,
        "DATAS_MAX_BODY_BYTES": str(64 * 1024 * 1024),
    }
    cmd = [sys.executable, "-m", "datas_cli.main", "serve", "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--workers", str(workers)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("API server did not start")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


class _RawHttp:
    """A minimal keep-alive HTTP/1.1 GET client on asyncio streams.

    httpx costs milliseconds of CPU per request; on a 2-core machine shared with the server that
    would measure the client. This costs tens of microseconds.
    """

    def __init__(self, base: str, headers: dict[str, str], connections: int) -> None:
        host_port = base.split("://", 1)[1]
        self.host, port = host_port.split(":")
        self.port = int(port)
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.size = connections
        self.pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def open(self) -> None:
        for _ in range(self.size):
            self.pool.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def get(self, path: str) -> int:
        reader, writer = await self.pool.get()
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            writer.close()
            reader, writer = await asyncio.open_connection(self.host, self.port)
            status = 599
        self.pool.put_nowait((reader, writer))
        return status

    async def close(self) -> None:
        while not self.pool.empty():
            _, writer = self.pool.get_nowait()
            writer.close()


async def _open_loop(
    base: str, paths: list[str], headers: dict[str, str], rps: float, duration: float
) -> dict[str, Any]:
    """Requests start on a fixed schedule (open loop), so a slow server cannot slow the offered
    load; latency counts from the scheduled start (no coordinated omission)."""
    n = int(rps * duration)
    latencies = np.full(n, np.nan)
    errors = 0
    client = _RawHttp(base, headers, connections=64)
    await client.open()
    t0 = time.perf_counter() + 0.2

    async def one(i: int) -> None:
        nonlocal errors
        start = t0 + i / rps
        await asyncio.sleep(max(0.0, start - time.perf_counter()))
        errors += await client.get(paths[i % len(paths)]) != 200
        latencies[i] = time.perf_counter() - start

    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - t0
    await client.close()
    ms = latencies * 1000.0
    return {
        "offered_rps": rps,
        "achieved_rps": round(n / elapsed, 1),
        "requests": n,
        "errors": errors,
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
    }


async def _closed_loop(
    base: str, paths: list[str], headers: dict[str, str], concurrency: int, duration: float
) -> dict[str, Any]:
    done = 0
    errors = 0
    client = _RawHttp(base, headers, connections=concurrency)
    await client.open()
    stop = time.perf_counter() + duration

    async def worker(k: int) -> None:
        nonlocal done, errors
        i = k
        while time.perf_counter() < stop:
            errors += await client.get(paths[i % len(paths)]) != 200
            done += 1
            i += concurrency

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    elapsed = time.perf_counter() - t0
    await client.close()
    return {"max_rps": round(done / elapsed, 1), "concurrency": concurrency, "errors": errors}


def _load_worker(kind: str, args: tuple[Any, ...], queue: Any) -> None:
    fn = _open_loop if kind == "open" else _closed_loop
    try:
        queue.put(asyncio.run(fn(*args)))
    except BaseException as exc:
        queue.put({"failed": f"{type(exc).__name__}: {exc}"})
        raise


def load_in_separate_process(kind: str, *args: Any) -> dict[str, Any]:
    """Run the load generator in its own process (it must not share the server's interpreter)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_load_worker, args=(kind, args, queue))
    proc.start()
    result = queue.get(timeout=600)
    proc.join()
    if "failed" in result:
        raise RuntimeError(f"load generator failed: {result['failed']}")
    return result  # type: ignore[no-any-return]


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, indent=2))
    out_dir = Path(os.environ.get("DATAS_BENCH_OUT", ".datas/bench"))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{result['benchmark']}.json").write_text(json.dumps(result, indent=2))
