"""The site agent with the simulator driver against a real local server (SQLite).

- throughput: targets observed per hour against the ideal from exposure + slew times alone
  (the agent's own overhead share: safety checks, rendering, FITS writing, uploads);
- outbox drain after a 1-hour outage with 500 queued observations (records/s);
- memory over 10,000 idle cycles (no growth expected).
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import api_server, emit, fresh_database
from datas_core.db import make_engine, make_session_factory, session_scope
from datas_core.schemas.auth import KeyCreate
from datas_core.schemas.sites import SiteCreate
from datas_core.schemas.targets import TargetCreate
from datas_core.services import auth, sites, targets
from datas_core.sky.night import midnight_longitude_deg
from datas_core.sky.time import julian_date, local_sidereal_time_deg
from site_agent.config import SiteConfig
from site_agent.devices.simulator import SimOptions, simulator_devices
from site_agent.executor import Agent
from site_agent.server_client import ServerClient
from site_agent.uploader import drain_observations

TIME_FACTOR = 0.01
EXPOSURE_S, FRAMES = 20.0, 2


def seed(url: str) -> tuple[str, list[int]]:
    lon = midnight_longitude_deg(float(julian_date(datetime.now(timezone.utc))))
    zenith = float(local_sidereal_time_deg(julian_date(datetime.now(timezone.utc)), lon))
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as s:
        sites.create_site(
            s,
            SiteCreate(
                site_id="bench",
                name="Bench site",
                latitude=0.0,
                longitude=lon,
                filters=["V"],
                aperture_mm=300,
            ),
        )
        made = targets.create_targets(
            s,
            [
                TargetCreate(
                    name=f"B{i}",
                    ra_deg=(zenith + 3 * (i - 10)) % 360,
                    dec_deg=-20 + 2 * i,
                    priority=5,
                    magnitude=11.0,
                    exposure_hints={"exposure_sec": EXPOSURE_S, "count": FRAMES},
                )
                for i in range(20)
            ],
        )
        s.flush()
        ids = [t.target_id for t in made]
        _, key = auth.create_key(s, KeyCreate(role="site", site_id="bench"))
    engine.dispose()
    return key, ids


def make_agent(base: str, key: str, state: Path, **overrides: object) -> Agent:
    config = SiteConfig.model_validate(
        {
            "site_id": "bench",
            "server": {"url": base, "key": key},
            "state_dir": str(state),
            "poll_seconds": 0.01,
            "heartbeat_seconds": 0.01,
            "safety": {"min_free_disk_mb": 1},
            "simulator": {"time_factor": TIME_FACTOR},
            **overrides,
        }
    )
    devices = simulator_devices(SimOptions(time_factor=TIME_FACTOR))
    return Agent(config, devices, ServerClient(base, key))


def throughput(base: str, key: str, state: Path) -> dict[str, float]:
    agent = make_agent(base, key, state)
    observed, slew_sim = 0, 0.0
    mount = agent.devices.mount
    start = time.perf_counter()
    while observed < 20:
        ra, dec = mount.ra_deg, mount.dec_deg  # type: ignore[attr-defined]
        report = agent.cycle()
        if report.observed:
            observed += 1
            from site_agent.devices.simulator import _separation_deg

            d = _separation_deg(ra, dec, mount.ra_deg, mount.dec_deg)  # type: ignore[attr-defined]
            slew_sim += d / 3.0 + 2.0
    wall = time.perf_counter() - start
    agent.close()
    ideal_sim = observed * FRAMES * EXPOSURE_S + slew_sim  # simulated seconds of real work
    overhead = wall - ideal_sim * TIME_FACTOR  # what the agent itself spent, in real seconds
    per_target_ideal = ideal_sim / observed
    per_target_real = per_target_ideal + overhead / observed
    return {
        "targets": observed,
        "ideal_targets_per_hour": round(3600 / per_target_ideal, 1),
        "achieved_targets_per_hour": round(3600 / per_target_real, 1),
        "overhead_seconds_per_target": round(overhead / observed, 3),
        "overhead_share": round(1 - per_target_ideal / per_target_real, 4),
    }


def outbox_drain(base: str, key: str, state: Path, target_id: int) -> dict[str, float]:
    agent = make_agent(base, key, state)
    now = datetime.now(timezone.utc)
    for i in range(500):  # an hour of observations queued while the server was away
        oid = str(uuid.uuid4())
        agent.outbox.put(
            "observation",
            oid,
            {
                "observation_id": oid,
                "target_id": target_id,
                "site_id": "bench",
                "observed_at": (now - timedelta(minutes=60 - i * 0.12)).isoformat(),
                "exposure_sec": 20,
                "filter": "V",
                "quality_flags": ["no_photometry"],
            },
        )
    start = time.perf_counter()
    report = drain_observations(agent.outbox, agent.client)
    seconds = time.perf_counter() - start
    agent.close()
    return {
        "queued": 500,
        "sent": report.sent,
        "seconds": round(seconds, 3),
        "records_per_s": round(report.sent / seconds, 1),
    }


def current_rss_mb() -> float:
    """Resident memory now (not the peak): /proc on Linux, the peak elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 1024 / 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def idle_memory(base: str, key: str, state: Path) -> dict[str, float]:
    # Paused: every cycle runs the safety check and the heartbeat path, observes nothing.
    agent = make_agent(base, key, state, heartbeat_seconds=3600, poll_seconds=3600)
    agent.paused = True
    rss: list[float] = []
    start = time.perf_counter()
    for i in range(10_000):
        agent.cycle()
        if i in (999, 9999):
            rss.append(current_rss_mb())
    seconds = time.perf_counter() - start
    agent.close()
    return {
        "cycles": 10_000,
        "ms_per_cycle": round(seconds / 10, 3),
        "rss_mb_after_1000": round(rss[0], 1),
        "rss_mb_after_10000": round(rss[1], 1),
        "growth_mb": round(rss[1] - rss[0], 1),
    }


def main() -> None:
    with fresh_database("sqlite") as url:
        key, ids = seed(url)
        with api_server(url) as base, tempfile.TemporaryDirectory() as tmp:
            tput = throughput(base, key, Path(tmp) / "a")
            drain = outbox_drain(base, key, Path(tmp) / "b", ids[0])
            memory = idle_memory(base, key, Path(tmp) / "c")
    emit(
        {
            "benchmark": "agent",
            "baseline": "ideal rate from exposure + slew times alone (no agent overhead)",
            "time_factor": TIME_FACTOR,
            "plan": {"frames": FRAMES, "exposure_s": EXPOSURE_S},
            "throughput": tput,
            "outbox_drain_after_outage": drain,
            "idle_memory": memory,
        }
    )


if __name__ == "__main__":
    main()
