"""A synthetic network at benchmark scale: N sites, M targets spread over the whole sky."""

from __future__ import annotations

import numpy as np

from datas_core.db import make_engine, make_session_factory, session_scope
from datas_core.schemas.auth import KeyCreate
from datas_core.schemas.sites import Heartbeat, SiteCreate, Weather
from datas_core.schemas.targets import TargetCreate
from datas_core.services import auth, sites, targets


def seed(url: str, n_sites: int, n_targets: int, seed: int = 1) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        for i in range(n_sites):
            sites.create_site(
                session,
                SiteCreate(
                    site_id=f"site-{i:04d}",
                    name=f"Bench site {i}",
                    latitude=float(rng.uniform(-55, 65)),
                    longitude=float(rng.uniform(-180, 180)),
                    aperture_mm=float(rng.choice([200, 280, 350, 400, 600])),
                    filters=["B", "V", "R"],
                    altitude_limit_deg=float(rng.choice([15, 20, 25, 30])),
                ),
            )
        ra = rng.uniform(0, 360, n_targets)
        dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n_targets)))
        prio = rng.integers(1, 11, n_targets)
        items = [
            TargetCreate(
                name=f"BT{i:06d}",
                ra_deg=float(ra[i]),
                dec_deg=float(dec[i]),
                priority=float(prio[i]),
                magnitude=float(rng.uniform(6, 16)),
            )
            for i in range(n_targets)
        ]
        for start in range(0, n_targets, 2000):
            targets.create_targets(session, items[start : start + 2000])
        # Every site reports clear weather, as a running network does.
        beat = Heartbeat(state="ready", weather=Weather(safe=True, cloud_cover_pct=5.0))
        for i in range(n_sites):
            sites.record_heartbeat(session, f"site-{i:04d}", beat)
        _, reader = auth.create_key(session, KeyCreate(role="reader", name="bench"))
        _, admin = auth.create_key(session, KeyCreate(role="admin", name="bench"))
    engine.dispose()
    return {
        "reader_key": reader,
        "admin_key": admin,
        "site_ids": [f"site-{i:04d}" for i in range(n_sites)],
    }
