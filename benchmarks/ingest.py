"""Batched observation ingest through the API: records per second (median of 3 runs).

Each run posts 20,000 new observations in batches of 500 from a separate client process
with 2 concurrent connections. Baseline, same server: one observation per request (what a
naive client does). Goal: at least 2,000 records/s on PostgreSQL.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import api_server, emit, fresh_database, postgres_available
from benchmarks.seed_network import seed

RECORDS, BATCH, CLIENTS, RUNS, SINGLES = 20_000, 500, 2, 3, 500


def _records(n: int, site_ids: list[str], n_targets: int) -> list[dict[str, object]]:
    now = datetime.now(timezone.utc) - timedelta(days=1)
    return [
        {
            "observation_id": str(uuid.uuid4()),
            "target_id": 1 + (i * 7919) % n_targets,
            "site_id": site_ids[i % len(site_ids)],
            "observed_at": (now + timedelta(seconds=i)).isoformat(),
            "exposure_sec": 60.0,
            "filter": "V",
            "airmass": 1.3,
            "magnitude": 12.0 + (i % 100) / 100,
            "mag_error": 0.02,
            "comparison_stars": [{"id": "c1", "mag": 11.8}],
            "quality_flags": [],
        }
        for i in range(n)
    ]


def _post_all(base: str, headers: dict[str, str], bodies: list[object]) -> float:
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        client.get("/healthz")
        start = time.perf_counter()

        def send(body: object) -> None:
            r = client.post("/api/v1/observations", json=body)
            if r.status_code != 201:
                raise RuntimeError(f"ingest failed: {r.status_code} {r.text[:300]}")

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(send, bodies))
        return time.perf_counter() - start


def run_backend(backend: str) -> dict[str, object]:
    with fresh_database(backend) as url:
        net = seed(url, 20, 1000)
        headers = {"Authorization": f"Bearer {net['admin_key']}"}
        site_ids = net["site_ids"]
        with api_server(url) as base:
            rates = []
            for _ in range(RUNS):
                recs = _records(RECORDS, site_ids, 1000)  # type: ignore[arg-type]
                batches = [recs[i : i + BATCH] for i in range(0, RECORDS, BATCH)]
                rates.append(RECORDS / _post_all(base, headers, batches))
            singles = _records(SINGLES, site_ids, 1000)  # type: ignore[arg-type]
            single_rate = SINGLES / _post_all(base, headers, singles)  # type: ignore[arg-type]
            replay = _records(RECORDS, site_ids, 1000)  # type: ignore[arg-type]
            batches = [replay[i : i + BATCH] for i in range(0, RECORDS, BATCH)]
            _post_all(base, headers, batches)
            replay_start = time.perf_counter()
            with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
                for b in batches:
                    assert client.post("/api/v1/observations", json=b).status_code == 200
            replay_rate = RECORDS / (time.perf_counter() - replay_start)
    median = statistics.median(rates)
    return {
        "records_per_run": RECORDS,
        "batch": BATCH,
        "clients": CLIENTS,
        "records_per_s": round(median, 1),
        "runs_records_per_s": [round(r, 1) for r in rates],
        "baseline_single_record_per_request_per_s": round(single_rate, 1),
        "speedup_vs_baseline": round(median / single_rate, 1),
        "replayed_batches_records_per_s": round(replay_rate, 1),
    }


def main() -> None:
    backends = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    result: dict[str, object] = {
        "benchmark": "ingest",
        "goal": {"records_per_s_at_least": 2000, "backend": "postgresql"},
        "baseline": "one observation per request, same server",
        "backends": {b: run_backend(b) for b in backends},
    }
    pg = result["backends"].get("postgresql")  # type: ignore[attr-defined]
    result["goal_met"] = bool(pg) and pg["records_per_s"] >= 2000
    emit(result)


if __name__ == "__main__":
    main()
