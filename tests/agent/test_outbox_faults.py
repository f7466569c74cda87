"""The outbox against a real API behind a fault injector: one poisonous record, a server that
fails everything, a refused key. Nothing is lost and nothing blocks the rest."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.harness import api_server
from datas_core.db import make_session_factory, session_scope
from datas_core.schemas.auth import KeyCreate
from datas_core.schemas.sites import SiteCreate
from datas_core.services import auth, sites
from site_agent.outbox import Backoff, Outbox
from site_agent.server_client import ServerClient
from site_agent.uploader import drain_observations
from tests.agent.fault_proxy import Reply, Request, fault_proxy
from tests.agent.test_uploader_live import Clock, _observation, _stored

OBSERVATIONS = "/api/v1/observations"


def _box(tmp_path: Path, clock: Clock) -> Outbox:
    return Outbox(tmp_path / "outbox.sqlite3", backoff=Backoff(1, 5, 0.0), clock=clock)


def _queue(box: Outbox, records: list[dict]) -> None:
    for r in records:
        box.put("observation", str(r["observation_id"]), r)


def _sent_alone(request: Request, observation_id: str) -> bool:
    if request.method != "POST" or request.path != OBSERVATIONS:
        return False
    records = json.loads(request.body)["observations"]
    return [r["observation_id"] for r in records] == [observation_id]


def test_a_record_the_server_always_fails_is_isolated_and_the_rest_go_through(
    db_url: str, network: dict, tmp_path: Path
) -> None:
    clock = Clock()
    box = _box(tmp_path, clock)
    target = network["target_id"]
    good = [_observation(target, 10 - i) for i in range(4)]
    bad = _observation(target, 11)
    _queue(box, [bad, *good])  # the bad one first: everything queues behind it

    def poison(request: Request, forward: object) -> Reply | None:
        if request.path == OBSERVATIONS and bad["observation_id"].encode() in request.body:
            body = {"error": "internal", "message": "ingest crashed on this record"}
            return Reply(500, json.dumps(body).encode())
        return None

    max_tries = 4
    with api_server(db_url) as base, fault_proxy(base) as proxy:
        proxy.rule = poison
        client = ServerClient(proxy.url, network["key"])
        report = drain_observations(box, client, max_tries=max_tries)
        assert (report.sent, report.failed, report.dead) == (4, 1, 0)
        assert not report.server_down and _stored(network["engine"]) == 4
        # More observations arrive while the bad one waits; they never wait for it.
        later = _observation(target, 1)
        _queue(box, [later])
        rounds = 0
        while box.stats()["dead"] == 0 and rounds < 20:
            clock.now += 10  # past the backoff
            drain_observations(box, client, max_tries=max_tries)
            rounds += 1
        client.close()
        alone = [r for r in proxy.seen if _sent_alone(r, bad["observation_id"])]
    (dead,) = box.rows(("dead",))
    assert dead.key == bad["observation_id"] and dead.tries == max_tries
    assert len(alone) == max_tries  # each try is one request with it alone
    assert dead.last_error and "ingest crashed on this record" in dead.last_error
    assert f"failed {max_tries} times" in dead.last_error
    assert box.stats()["pending"] == 0 and box.stats()["sent"] == 5
    assert _stored(network["engine"]) == 5
    box.close()


def test_a_server_that_fails_everything_burns_no_tries(
    db_url: str, network: dict, tmp_path: Path
) -> None:
    # e.g. its database is down: every request is a 500 and /healthz says so (503)
    clock = Clock()
    box = _box(tmp_path, clock)
    _queue(box, [_observation(network["target_id"], 5 - i) for i in range(3)])

    def broken(request: Request, forward: object) -> Reply | None:
        if request.path == "/healthz":
            return Reply(503, b'{"status": "degraded", "database": "error: OperationalError"}')
        return Reply(500, b'{"error": "internal", "message": "database unavailable"}')

    with api_server(db_url) as base, fault_proxy(base) as proxy:
        client = ServerClient(proxy.url, network["key"])
        proxy.rule = broken
        for _ in range(12):  # more rounds than max_tries
            report = drain_observations(box, client, max_tries=3)
            assert report.server_down and report.sent == 0 and report.dead == 0
            clock.now += 10
        assert all(r.tries == 0 and r.state == "pending" for r in box.rows())
        proxy.rule = None  # the database is back
        assert drain_observations(box, client, max_tries=3).sent == 3
        client.close()
    assert _stored(network["engine"]) == 3
    box.close()


def test_a_refused_key_stops_uploads_and_loses_nothing(
    db_url: str, network: dict, tmp_path: Path
) -> None:
    with session_scope(make_session_factory(network["engine"])) as s:
        sites.create_site(s, SiteCreate(site_id="other", name="Other", latitude=0, longitude=0))
        _, other_key = auth.create_key(s, KeyCreate(role="site", site_id="other"))
    clock = Clock()
    box = _box(tmp_path, clock)
    _queue(box, [_observation(network["target_id"], 30 - i) for i in range(10)])
    with api_server(db_url) as base:
        for key, status in [("datas_0123456789ab_notthekey", "401"), (other_key, "403")]:
            wrong = ServerClient(base, key)
            for _ in range(3):
                report = drain_observations(box, wrong, max_tries=2)
                assert report.auth_refused and report.auth_refused.startswith(status)
                assert report.sent == report.dead == report.deferred == 0
            wrong.close()
        # Nothing marked: no tries used, no backoff waited; all still due.
        assert all(r.state == "pending" and r.tries == r.attempts == 0 for r in box.rows())
        fixed = ServerClient(base, network["key"])
        assert drain_observations(box, fixed).sent == 10
        fixed.close()
    assert _stored(network["engine"]) == 10
    box.close()
