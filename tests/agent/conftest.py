"""A site where it is night right now, registered on a fresh database, with its site key; and
a plain site with one target for the uploader tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from datas_core.db import make_engine, make_session_factory, session_scope
from datas_core.schemas.auth import KeyCreate
from datas_core.schemas.sites import SiteCreate
from datas_core.schemas.targets import TargetCreate
from datas_core.services import auth, sites, targets
from datas_core.sky.night import midnight_longitude_deg
from datas_core.sky.time import julian_date, local_sidereal_time_deg


@pytest.fixture
def night_site(db_url: str) -> Iterator[dict]:
    lon = midnight_longitude_deg(float(julian_date(datetime.now(timezone.utc))))
    zenith_ra = float(local_sidereal_time_deg(julian_date(datetime.now(timezone.utc)), lon))
    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine)) as s:
        sites.create_site(
            s,
            SiteCreate(
                site_id="sim",
                name="Simulated site",
                latitude=0.0,
                longitude=lon,
                filters=["V", "R"],
                aperture_mm=300,
            ),
        )
        made = targets.create_targets(
            s,
            [
                TargetCreate(
                    name=f"Z{i}",
                    ra_deg=(zenith_ra + 8 * i) % 360,
                    dec_deg=-5.0 + i,
                    priority=9 - i,
                    magnitude=11.0,
                    exposure_hints={"exposure_sec": 20, "count": 2, "filter": "V"},
                )
                for i in range(3)
            ],
        )
        s.flush()
        ids = [t.target_id for t in made]
        positions = [(t.target_id, t.ra_deg, t.dec_deg) for t in made]
        _, key = auth.create_key(s, KeyCreate(role="site", site_id="sim"))
    yield {
        "engine": engine,
        "key": key,
        "target_ids": ids,
        "positions": positions,
        "longitude": lon,
        "db_url": db_url,
    }
    engine.dispose()


@pytest.fixture
def network(db_url: str) -> Iterator[dict[str, object]]:
    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine)) as s:
        sites.create_site(
            s, SiteCreate(site_id="ond", name="Ondrejov", latitude=49.9, longitude=14.8)
        )
        (target,) = targets.create_targets(
            s, [TargetCreate(name="RR Lyr", ra_deg=291.37, dec_deg=42.78)]
        )
        s.flush()
        _, key = auth.create_key(s, KeyCreate(role="site", site_id="ond"))
        target_id = target.target_id
    yield {"engine": engine, "key": key, "target_id": target_id}
    engine.dispose()
