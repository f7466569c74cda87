"""Served lists react to what was observed: an observation re-scores its target in the stored
lists served after it (cadence, coverage, recent-same-site), long before the ranking expires;
a site driven through a night never gets a target again before its cadence allows."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from datas_core.db.models import SiteStatus
from datas_core.scheduling.inputs import SchedulerConfig
from datas_core.schemas.observations import ObservationIn
from datas_core.schemas.sites import SiteCreate
from datas_core.schemas.targets import TargetCreate
from datas_core.services import catalog_version, observations, rankings, sites, targets

AT = datetime(2026, 11, 22, 18, 0, tzinfo=timezone.utc)  # a past night at Ondrejov
STALE_MINUTES = 15.0


def _site(session: Session, site_id: str, longitude: float = 14.8) -> None:
    sites.create_site(
        session,
        SiteCreate(
            site_id=site_id, name=site_id, latitude=49.9, longitude=longitude, filters=["V"]
        ),
    )


def _beat(session: Session, site_id: str, when: datetime) -> None:
    session.add(
        SiteStatus(
            site_id=site_id,
            received_at=when - timedelta(minutes=1),
            state="ready",
            weather={"safe": True, "cloud_cover_pct": 0.0},
        )
    )


def _targets(session: Session, specs: list[dict[str, Any]]) -> list[int]:
    """Circumpolar targets (Dec +70 from latitude 49.9): visible all night, spread in RA."""
    made = targets.create_targets(
        session,
        [
            TargetCreate(name=f"T{i}", ra_deg=30.0 * i, dec_deg=70.0, priority=5, **spec)
            for i, spec in enumerate(specs)
        ],
    )
    session.flush()
    return [t.target_id for t in made]


def _observe(session: Session, site_id: str, target_id: int, when: datetime) -> None:
    observations.ingest(
        session,
        [
            ObservationIn(
                observation_id=str(uuid.uuid4()),
                target_id=target_id,
                site_id=site_id,
                observed_at=when,
                exposure_sec=30,
                filter="V",
                magnitude=12.0,
                mag_error=0.02,
            )
        ],
    )
    session.commit()


def _serve(
    session: Session,
    site_id: str,
    when: datetime,
    cfg: SchedulerConfig,
    cache: rankings.StoredListsCache,
) -> dict[str, Any]:
    """What GET /api/v1/targets?site_id= does: the stored list kept fresh, then served."""
    stored = rankings.refresh_if_stale(session, site_id, when, cfg, STALE_MINUTES, cache)
    return rankings.serve_site_list(
        session,
        site_id,
        when,
        cfg,
        STALE_MINUTES,
        count=50,
        stored=stored,
        current_version=catalog_version.current(session),
    )


def test_an_observation_reaches_the_served_lists_before_the_ranking_expires(
    session: Session,
) -> None:
    _site(session, "ond")
    _site(session, "other", longitude=15.0)
    ids = _targets(
        session,
        [{"total_needed": 10}, {"total_needed": 10}, {"cadence_hours": 24.0}, {}, {}],
    )
    for site_id in ("ond", "other"):
        _beat(session, site_id, AT)
    session.commit()
    cfg = SchedulerConfig()
    rankings.store_rankings(session, rankings.compute_rankings(session, AT, cfg, STALE_MINUTES))
    session.commit()
    cache = rankings.StoredListsCache(recheck_seconds=0)
    first = _serve(session, "ond", AT + timedelta(minutes=1), cfg, cache)
    before = {e["target_id"]: e for e in first["targets"]}
    assert first["ranking"] == "network" and len(before) == 5

    # the site observes a coverage target and the cadence target, one minute later
    counted, cadenced = ids[0], ids[2]
    assert before[counted]["terms"]["cadence"] == 1.0  # no cadence asked for
    assert before[cadenced]["terms"]["cadence"] == cfg.never_observed_factor
    _observe(session, "ond", counted, AT + timedelta(minutes=2))
    _observe(session, "ond", cadenced, AT + timedelta(minutes=2))
    later = AT + timedelta(minutes=3)  # the stored ranking is valid for 10 minutes
    after = _serve(session, "ond", later, cfg, cache)
    assert after["computed_at"] == first["computed_at"]  # the same stored ranking, folded
    now = {e["target_id"]: e for e in after["targets"]}
    assert cadenced not in now  # not again before its cadence allows
    terms = now[counted]["terms"]
    assert terms["recent"] == cfg.recent_factor  # observed here within the hour
    assert terms["coverage"] < before[counted]["terms"]["coverage"]  # 1 of 10 done
    assert not now[counted]["in_slot"]  # its slot duty is done
    assert now[counted]["score"] < before[counted]["score"]
    assert after["targets"][0]["target_id"] != counted
    untouched = ids[3]
    assert now[untouched]["score"] == before[untouched]["score"]  # not re-scored

    # the other site sees the cadence and coverage move, not the same-site repeat penalty
    elsewhere = {e["target_id"]: e for e in _serve(session, "other", later, cfg, cache)["targets"]}
    assert cadenced not in elsewhere
    assert elsewhere[counted]["terms"]["recent"] == 1.0
    assert elsewhere[counted]["terms"]["coverage"] == terms["coverage"]

    # folded once per new observation: the next request reuses the folded list
    stored = cache.get(session, "ond")
    assert stored is not None and stored.observed_version == cache.tracker.version
    assert cache.with_observations(session, stored, later, cfg) is stored


def test_a_site_driven_through_a_night_respects_cadences_and_rotates(session: Session) -> None:
    _site(session, "ond")
    cadences = [0.5, 0.75, 1.0, 1.5, 2.0, 3.0] * 2
    ids = _targets(session, [{"cadence_hours": c} for c in cadences])
    cadence_of = dict(zip(ids, cadences, strict=True))
    session.commit()
    # stored lists live 10 minutes (the default) and the site comes back every 5: half the
    # lists it is served were computed before its last observation and must have folded it in
    cfg = SchedulerConfig()
    cache = rankings.StoredListsCache(recheck_seconds=0)
    observed: dict[int, list[datetime]] = {t: [] for t in ids}
    heads: list[int] = []
    folded = idle = 0
    when = AT
    for _ in range(100):  # 18:00 to 02:20 UTC, all of it dark
        _beat(session, "ond", when)
        session.commit()
        body = _serve(session, "ond", when, cfg, cache)
        assert body["site_reason"] is None and body["ranking"] == "network", body
        if heads and datetime.fromisoformat(body["computed_at"]) < when - timedelta(minutes=5):
            folded += 1  # computed before the last observation
        if not body["targets"]:  # nothing is due: the site waits
            idle += 1
        else:
            target_id = body["targets"][0]["target_id"]
            last = observed[target_id]
            if last:  # never before its cadence allows
                assert when - last[-1] >= timedelta(hours=cadence_of[target_id]), target_id
            heads.append(target_id)
            _observe(session, "ond", target_id, when)
            observed[target_id].append(when)
        when += timedelta(minutes=5)

    print(f"{len(heads)} observations, {idle} idle cycles, {folded} folded lists")
    assert all(a != b for a, b in itertools.pairwise(heads))  # it rotates
    for target_id, cadence in cadence_of.items():
        times = observed[target_id]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert len(times) >= 2, target_id  # every target comes round again
        assert min(gaps) >= timedelta(hours=cadence)
        # and is not starved: a target that falls due is listed at the next ranking (lists
        # live 10 minutes) and then waits its turn among the others due
        assert max(gaps) <= timedelta(hours=cadence + 1.0), (cadence, max(gaps))
    assert folded > 30
