"""Class 8: a deactivated target stayed in sites' served lists until the next ranking (over 60 s,
where additions fold in within DATAS_CATALOG_RECHECK_SECONDS). Removals now fold in as fast."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from datas_core.scheduling.inputs import SchedulerConfig
from datas_core.schemas.targets import TargetUpdate
from datas_core.services import catalog_version, rankings, targets
from tests.core.test_rankings_service import AT, _network


def _served(session: Session, stored: rankings.StoredList) -> tuple[list[int], str]:
    body = rankings.serve_site_list(
        session,
        "ond",
        AT + timedelta(minutes=1),
        SchedulerConfig(),
        15,
        count=50,
        stored=stored,
        current_version=catalog_version.current(session),
    )
    return [t["target_id"] for t in body["targets"]], body["ranking"]


def test_deactivated_target_leaves_the_served_list_at_once(session: Session) -> None:
    ids = _network(session)
    rankings.store_rankings(session, rankings.compute_rankings(session, AT, SchedulerConfig(), 15))
    session.commit()
    stored = rankings.stored_ranking(session, "ond")
    assert stored is not None
    served, source = _served(session, stored)
    assert set(served) == set(ids) and source == "network"

    targets.update_target(session, ids[0], TargetUpdate(active=False))
    session.commit()
    served, source = _served(session, stored)
    assert ids[0] not in served and source == "network+changes"
    assert set(served) == set(ids[1:])

    # Moved out of reach (below the horizon for this site): also gone at once.
    targets.update_target(session, ids[1], TargetUpdate(dec_deg=-85.0))
    session.commit()
    served, _ = _served(session, stored)
    assert ids[1] not in served and set(served) == set(ids[2:])

    targets.update_target(session, ids[0], TargetUpdate(active=True))
    session.commit()
    served, _ = _served(session, stored)
    assert ids[0] in served
