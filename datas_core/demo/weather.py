"""Simulated heartbeats for the demo sites, so `make run` has a living network to rank.

Each site's cloud cover follows a bounded random walk; above 80% the site reports unsafe.
Until real agents (or the simulated agents of the site-agent work) report, this stands in for
them, marked with agent_version "demo-weather".
"""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from datas_core.db.models import Site
from datas_core.demo.seed import demo_site_ids
from datas_core.schemas.sites import Heartbeat, Weather
from datas_core.services import sites

AGENT_VERSION = "demo-weather"


class DemoWeather:
    def __init__(self, seed: int | None = None) -> None:
        self.rng = random.Random(seed)
        self.cloud: dict[str, float] = {}
        self.site_ids = demo_site_ids()

    def report(self, session: Session) -> int:
        """One heartbeat per demo site that exists and is active; returns how many."""
        present = set(
            session.scalars(
                select(Site.site_id).where(Site.site_id.in_(self.site_ids), Site.active.is_(True))
            )
        )
        for site_id in self.site_ids:
            if site_id not in present:
                continue
            cloud = self.cloud.get(site_id, self.rng.uniform(0, 40))
            cloud = min(100.0, max(0.0, cloud + self.rng.gauss(0, 8)))
            self.cloud[site_id] = cloud
            beat = Heartbeat(
                state="ready",
                weather=Weather(safe=cloud < 80, cloud_cover_pct=round(cloud, 1)),
                agent_version=AGENT_VERSION,
                message="simulated by `datas up` for the demo network",
            )
            sites.record_heartbeat(session, site_id, beat)
        return len(present)
