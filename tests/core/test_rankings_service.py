"""Rankings from the database: repeat penalty, reliability from served slots, stored lists."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from datas_core.db.models import Site, SiteStatus
from datas_core.scheduling.inputs import SchedulerConfig
from datas_core.schemas.observations import ObservationIn
from datas_core.schemas.sites import SiteCreate
from datas_core.schemas.targets import TargetCreate
from datas_core.services import observations, rankings, sites, targets
from datas_core.sky.time import julian_date, local_sidereal_time_deg

AT = datetime(
    2026, 11, 22, 22, 0, tzinfo=timezone.utc
)  # a past night: observations may not be from the future


def _network(session: Session) -> list[int]:
    sites.create_site(
        session,
        SiteCreate(site_id="ond", name="Ondrejov", latitude=49.9, longitude=14.8, filters=["V"]),
    )
    session.add(
        SiteStatus(
            site_id="ond",
            received_at=AT - timedelta(minutes=1),
            state="ready",
            weather={"safe": True},
        )
    )
    lst = float(local_sidereal_time_deg(julian_date(AT), 14.8))
    made = targets.create_targets(
        session,
        [
            TargetCreate(name=f"T{i}", ra_deg=(lst + 10 * i) % 360, dec_deg=50.0, priority=5)
            for i in range(5)
        ],
    )
    session.flush()
    return [t.target_id for t in made]


def _observe(session: Session, target_id: int, when: datetime) -> None:
    observations.ingest(
        session,
        [
            ObservationIn(
                observation_id=str(uuid.uuid4()),
                target_id=target_id,
                site_id="ond",
                observed_at=when,
                exposure_sec=30,
                filter="V",
                magnitude=12.0,
                mag_error=0.02,
            )
        ],
    )


def test_recent_same_site_observation_is_penalised(session: Session) -> None:
    ids = _network(session)
    cfg = SchedulerConfig()
    before = rankings.compute_rankings(session, AT, cfg, 15)
    first = before.sites["ond"]["entries"][0]
    _observe(session, first["target_id"], AT - timedelta(minutes=20))
    after = rankings.compute_rankings(session, AT, cfg, 15)
    entry = next(e for e in after.sites["ond"]["entries"] if e["target_id"] == first["target_id"])
    assert entry["terms"]["recent"] == cfg.recent_factor
    assert after.sites["ond"]["entries"][0]["target_id"] != first["target_id"]
    assert len(ids) == 5


def test_reliability_follows_what_came_back_from_the_slot(session: Session) -> None:
    _network(session)
    cfg = SchedulerConfig()
    run = rankings.compute_rankings(session, AT, cfg, 15)
    rankings.store_rankings(session, run)
    slot = [e["target_id"] for e in run.sites["ond"]["entries"] if e["in_slot"]]
    assert len(slot) == cfg.head_per_site
    # The site observes one of its three slot targets before the next ranking.
    _observe(session, slot[0], AT + timedelta(minutes=3))
    later = AT + timedelta(minutes=5)
    session.add(SiteStatus(site_id="ond", received_at=later, state="ready", weather={"safe": True}))
    rankings.store_rankings(session, rankings.compute_rankings(session, later, cfg, 15))
    reliability = session.get(Site, "ond").reliability
    assert abs(reliability - (0.9 * 1.0 + 0.1 * (1 / 3))) < 1e-9
    stored = rankings.stored_ranking(session, "ond")
    assert stored is not None and stored.valid_at(later + timedelta(minutes=1))
    assert stored.stats["site"]["latitude"] == 49.9
