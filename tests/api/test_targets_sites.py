"""Targets (catalog, ranked list per site, cone search), sites and heartbeats, alerts, OpenAPI."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone

import numpy as np
from fastapi.testclient import TestClient

from tests.api.conftest import SITE_A, Keys, bearer


def _add(client: TestClient, keys: Keys, **fields: object) -> dict:
    r = client.post("/api/v1/targets", json=fields, headers=bearer(keys.admin))
    assert r.status_code == 201, r.text
    return r.json()


def test_create_get_update_and_duplicates(client: TestClient, keys: Keys) -> None:
    t = _add(
        client,
        keys,
        name="Mira",
        ra_deg=34.8366,
        dec_deg=-2.9776,
        magnitude=6.5,
        priority=7,
        cadence_hours=96,
        aliases=[{"alias": "omi Cet", "source": "GCVS"}],
    )
    assert t["aliases"] == [{"alias": "omi Cet", "source": "GCVS"}]
    assert (
        client.get(f"/api/v1/targets/{t['target_id']}", headers=bearer(keys.reader)).json()["name"]
        == "Mira"
    )
    r = client.post(
        "/api/v1/targets",
        json={"name": "Mira", "ra_deg": 1, "dec_deg": 1},
        headers=bearer(keys.admin),
    )
    assert r.status_code == 409 and "already exists" in r.json()["message"]
    r = client.post(
        "/api/v1/targets",
        json={"name": "X", "ra_deg": 1, "dec_deg": 1, "aliases": [{"alias": "omi Cet"}]},
        headers=bearer(keys.admin),
    )
    assert r.status_code == 409 and "omi Cet" in r.json()["message"]
    r = client.patch(
        f"/api/v1/targets/{t['target_id']}",
        json={"priority": 9, "dec_deg": -3.0},
        headers=bearer(keys.admin),
    )
    assert r.status_code == 200 and r.json()["priority"] == 9 and r.json()["ra_deg"] == 34.8366
    r = client.patch(
        f"/api/v1/targets/{t['target_id']}", json={"dec_deg": -91}, headers=bearer(keys.admin)
    )
    assert r.status_code == 422
    r = client.patch(
        f"/api/v1/targets/{t['target_id']}", json={"priority": None}, headers=bearer(keys.admin)
    )
    assert r.status_code == 422
    got = client.get(f"/api/v1/targets/{t['target_id']}", headers=bearer(keys.reader)).json()
    assert (got["priority"], got["dec_deg"]) == (9, -3.0)  # rejected updates changed nothing
    assert client.get("/api/v1/targets/424242", headers=bearer(keys.reader)).status_code == 404


def test_bad_target_input(client: TestClient, keys: Keys) -> None:
    for body, fragment in [
        ({"name": "a", "ra_deg": -1, "dec_deg": 0}, "ra_deg"),
        ({"name": "a", "ra_deg": 10, "dec_deg": 90.5}, "dec_deg"),
        ({"name": "a", "ra_deg": "ten", "dec_deg": 0}, "ra_deg"),
        ({"name": "", "ra_deg": 10, "dec_deg": 0}, "name"),
        ({"ra_deg": 10, "dec_deg": 0}, "name: this field is required"),
        ({"name": "a", "ra_deg": 10, "dec_deg": 0, "priority": 11}, "priority"),
        (
            {
                "name": "a",
                "ra_deg": 10,
                "dec_deg": 0,
                "time_critical_start": "2026-01-02T00:00:00Z",
                "time_critical_end": "2026-01-01T00:00:00Z",
            },
            "time_critical_end",
        ),
    ]:
        r = client.post("/api/v1/targets", json=body, headers=bearer(keys.admin))
        assert r.status_code == 422, body
        assert fragment in r.json()["message"], (fragment, r.json())
    assert client.get("/api/v1/targets", headers=bearer(keys.reader)).json()["total"] == 0


def test_catalog_pagination_and_filters(client: TestClient, keys: Keys) -> None:
    for i in range(25):
        _add(
            client,
            keys,
            name=f"T{i:02d}",
            ra_deg=i * 14.0,
            dec_deg=0.0,
            priority=i % 10,
            target_type="variable_star" if i % 2 else "exoplanet_transit",
        )
    page = client.get("/api/v1/targets?count=10", headers=bearer(keys.reader)).json()
    assert page["total"] == 25 and len(page["targets"]) == 10 and page["next_offset"] == 10
    prios = [t["priority"] for t in page["targets"]]
    assert prios == sorted(prios, reverse=True)
    page = client.get("/api/v1/targets?count=10&offset=20", headers=bearer(keys.reader)).json()
    assert len(page["targets"]) == 5 and page["next_offset"] is None
    high = client.get("/api/v1/targets?priority_min=8", headers=bearer(keys.reader)).json()
    assert high["total"] == 4 and all(t["priority"] >= 8 for t in high["targets"])
    ev = client.get(
        "/api/v1/targets?target_type=exoplanet_transit", headers=bearer(keys.reader)
    ).json()
    assert ev["total"] == 13
    assert client.get("/api/v1/targets?count=0", headers=bearer(keys.reader)).status_code == 422
    assert (
        client.get("/api/v1/targets?campaign=nope", headers=bearer(keys.reader)).status_code == 404
    )


AT = datetime(2026, 11, 23, 22, 0, tzinfo=timezone.utc)  # dark at site-a (Ondrejov)


def _clear_heartbeat(client: TestClient, site_id: str, when: datetime) -> None:
    from datas_core.db import session_scope
    from datas_core.db.models import SiteStatus

    with session_scope(client.app.state.session_factory) as s:  # type: ignore[attr-defined]
        s.add(
            SiteStatus(
                site_id=site_id,
                received_at=when,
                state="ready",
                weather={"safe": True, "cloud_cover_pct": 0.0},
            )
        )


def _astropy_alt(ra: np.ndarray, dec: np.ndarray, when: datetime, lat: float, lon: float):
    from astropy import units as u
    from astropy.coordinates import AltAz, EarthLocation, SkyCoord
    from astropy.time import Time

    loc = EarthLocation(lat=lat * u.deg, lon=lon * u.deg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = AltAz(obstime=Time(when), location=loc)
        return SkyCoord(ra * u.deg, dec * u.deg).transform_to(frame).alt.deg


def test_site_list_serves_what_is_observable_with_explained_scores(
    client: TestClient, keys: Keys
) -> None:
    rng = np.random.default_rng(7)
    ra = rng.uniform(0, 360, 120)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 120)))
    for i in range(120):
        _add(
            client,
            keys,
            name=f"S{i}",
            ra_deg=round(float(ra[i]), 5),
            dec_deg=round(float(dec[i]), 5),
            priority=float(i % 10 + 1),
        )
    url = "/api/v1/targets?site_id=site-a&count=1000&at=2026-11-23T22:00:00Z"
    # No heartbeat: weather unknown, nothing is scheduled, and the answer says why.
    body = client.get(url, headers=bearer(keys.site_a)).json()
    assert body["targets"] == [] and "weather unknown" in body["site_reason"]
    _clear_heartbeat(client, "site-a", AT - timedelta(minutes=2))
    r = client.get(url + "&explain=true", headers=bearer(keys.site_a))
    assert r.status_code == 200, r.text
    body = r.json()
    alt = _astropy_alt(ra, dec, AT, SITE_A["latitude"], SITE_A["longitude"])
    limit = SITE_A["altitude_limit_deg"]
    served = {t["name"] for t in body["targets"]}
    assert served <= {f"S{i}" for i in range(120) if alt[i] >= limit - 0.05}
    # Comfortably observable targets are all served (none is near the Moon at this time).
    comfortable = {f"S{i}" for i in range(120) if alt[i] >= limit + 3}
    missing = comfortable - served
    why = {e["name"]: e["reason"] for e in body["excluded_targets"]}
    assert all(why.get(name) == "moon_constraint" for name in missing), (missing, why)
    assert len(missing) <= 3
    scores = [t["score"] for t in body["targets"]]
    assert scores == sorted(scores, reverse=True)
    for t in body["targets"]:
        product = np.prod(list(t["terms"].values()))
        assert abs(product - t["score"]) <= 1e-3 * t["score"] + 1e-3
        assert t["airmass"] >= 1.0 and t["altitude_deg"] >= limit - 0.05
        assert t["exposure_plan"]["filter"] in SITE_A["filters"]
        assert t["window"]["rise"] <= AT.isoformat().replace("+00:00", "Z") <= t["window"]["set"]
    assert [t["rank"] for t in body["targets"]] == list(range(1, len(served) + 1))
    reasons = {e["reason"] for e in body["excluded_targets"]}
    assert reasons and reasons <= {
        "below_altitude_limit",
        "sets_before_plan_completes",
        "moon_constraint",
    }
    for e in body["excluded_targets"]:
        if e["reason"] == "below_altitude_limit":
            assert alt[int(e["name"][1:])] < limit + 0.05
    first = client.get(url.replace("count=1000", "count=5"), headers=bearer(keys.site_a)).json()
    assert [t["name"] for t in first["targets"]] == [t["name"] for t in body["targets"][:5]]
    assert (
        client.get("/api/v1/targets?site_id=nowhere", headers=bearer(keys.admin)).status_code == 404
    )
    r = client.get(
        "/api/v1/targets?site_id=site-a&at=2026-11-23T22:00:00", headers=bearer(keys.admin)
    )
    assert r.status_code == 422 and "timezone" in r.json()["message"]


def test_stored_network_ranking_folds_in_new_targets(client: TestClient, keys: Keys) -> None:
    from datas_core.db import session_scope
    from datas_core.scheduling.inputs import SchedulerConfig
    from datas_core.services import rankings

    for i, (ra, dec) in enumerate([(30.0, 50.0), (60.0, 45.0), (90.0, 40.0)]):
        _add(client, keys, name=f"N{i}", ra_deg=ra, dec_deg=dec, priority=5)
    _clear_heartbeat(client, "site-a", AT - timedelta(minutes=1))
    with session_scope(client.app.state.session_factory) as s:  # type: ignore[attr-defined]
        run = rankings.compute_rankings(s, AT, SchedulerConfig(), 15)
        rankings.store_rankings(s, run)
    later = AT + timedelta(minutes=2)
    url = f"/api/v1/targets?site_id=site-a&at={later.isoformat().replace('+00:00', 'Z')}"
    body = client.get(url, headers=bearer(keys.site_a)).json()
    assert body["ranking"] == "network"
    assert {t["name"] for t in body["targets"]} == {"N0", "N1", "N2"}
    assert body["targets"][0]["in_slot"]
    # An alert-like target created after the ranking is served at once, above the others.
    from datas_core.sky.time import julian_date, local_sidereal_time_deg

    zenith_ra = float(local_sidereal_time_deg(julian_date(later), SITE_A["longitude"]))
    _add(
        client,
        keys,
        name="urgent",
        ra_deg=round(zenith_ra, 4),
        dec_deg=SITE_A["latitude"],
        priority=10,
    )
    body = client.get(url, headers=bearer(keys.site_a)).json()
    assert body["ranking"] == "network+changes"
    assert body["targets"][0]["name"] == "urgent"
    # Past the validity time the site is ranked live, with the same rules.
    expired = AT + timedelta(minutes=30)
    _clear_heartbeat(client, "site-a", expired - timedelta(minutes=1))
    url = f"/api/v1/targets?site_id=site-a&at={expired.isoformat().replace('+00:00', 'Z')}"
    body = client.get(url, headers=bearer(keys.site_a)).json()
    assert body["ranking"] == "live" and body["targets"][0]["name"] == "urgent"


def test_cone_search_endpoint_across_ra_zero(client: TestClient, keys: Keys) -> None:
    _add(client, keys, name="east", ra_deg=359.9995, dec_deg=10.0)
    _add(client, keys, name="west", ra_deg=0.0005, dec_deg=10.0)
    _add(client, keys, name="far", ra_deg=0.02, dec_deg=10.0)
    r = client.get("/api/v1/targets/cone?ra=0&dec=10&radius_arcsec=5", headers=bearer(keys.reader))
    assert r.status_code == 200
    names = [t["name"] for t in r.json()["targets"]]
    assert sorted(names) == ["east", "west"]
    assert all(abs(t["separation_arcsec"] - 1.7726) < 1e-3 for t in r.json()["targets"])
    assert (
        client.get("/api/v1/targets/cone?ra=400&dec=0", headers=bearer(keys.reader)).status_code
        == 422
    )


def test_sites_heartbeat_and_staleness(client: TestClient, keys: Keys) -> None:
    sites = client.get("/api/v1/sites", headers=bearer(keys.reader)).json()
    assert sites["total"] == 2 and {s["status"] for s in sites["sites"]} == {"never_seen"}
    beat = {
        "reported_at": datetime.now(timezone.utc).isoformat(),
        "state": "ready",
        "agent_version": "0.1.0",
        "weather": {"safe": True, "cloud_cover_pct": 5, "humidity_pct": 60, "wind_speed_ms": 3.2},
    }
    r = client.put("/api/v1/sites/site-a/heartbeat", json=beat, headers=bearer(keys.site_a))
    assert r.status_code == 200 and r.json()["weather"]["cloud_cover_pct"] == 5
    site = client.get("/api/v1/sites/site-a", headers=bearer(keys.reader)).json()
    assert site["status"] == "online" and site["latest_heartbeat"]["state"] == "ready"
    bad = client.put(
        "/api/v1/sites/site-a/heartbeat",
        json={"weather": {"humidity_pct": 140}},
        headers=bearer(keys.site_a),
    )
    assert bad.status_code == 422 and "humidity_pct" in bad.json()["message"]
    from datas_core.services.sites import heartbeat_state

    last = datetime.now(timezone.utc) - timedelta(minutes=16)
    assert heartbeat_state(last, 15) == "stale"
    assert heartbeat_state(last, 20) == "online"
    assert client.get("/api/v1/sites/nowhere", headers=bearer(keys.reader)).status_code == 404


def test_create_site_validation_and_conflicts(client: TestClient, keys: Keys) -> None:
    new = {
        **SITE_A,
        "site_id": "mtj-nz",
        "name": "Mt John",
        "latitude": -43.9856,
        "longitude": 170.4650,
    }
    r = client.post("/api/v1/sites", json=new, headers=bearer(keys.admin))
    assert r.status_code == 201 and r.json()["status"] == "never_seen"
    assert client.post("/api/v1/sites", json=new, headers=bearer(keys.admin)).status_code == 409
    same_name = {**new, "site_id": "other"}
    r = client.post("/api/v1/sites", json=same_name, headers=bearer(keys.admin))
    assert r.status_code == 409 and "Mt John" in r.json()["message"]
    for change, fragment in [
        ({"latitude": 91}, "latitude"),
        ({"site_id": "Bad Id!"}, "site_id"),
        ({"automation_level": "full"}, "automation_level"),
    ]:
        r = client.post(
            "/api/v1/sites",
            json={**new, "site_id": "z1", "name": "z", **change},
            headers=bearer(keys.admin),
        )
        assert r.status_code == 422 and fragment in r.json()["message"]
    east = client.post(
        "/api/v1/sites",
        json={**new, "site_id": "e360", "name": "E", "longitude": 350.0},
        headers=bearer(keys.admin),
    )
    assert east.json()["longitude"] == -10.0


def test_campaigns(client: TestClient, keys: Keys) -> None:
    ids = [
        _add(client, keys, name=f"C{i}", ra_deg=10.0 + i, dec_deg=5.0)["target_id"]
        for i in range(3)
    ]
    r = client.post(
        "/api/v1/campaigns",
        json={"name": "Transits", "redundancy": "simultaneous", "priority_boost": 1.5},
        headers=bearer(keys.admin),
    )
    assert r.status_code == 201
    cid = r.json()["campaign_id"]
    r = client.post(
        f"/api/v1/campaigns/{cid}/targets",
        json={"target_ids": [*ids, 99999]},
        headers=bearer(keys.admin),
    )
    assert r.status_code == 422 and "99999" in r.json()["message"]
    assert (
        client.get(f"/api/v1/campaigns/{cid}", headers=bearer(keys.reader)).json()["target_ids"]
        == []
    )
    r = client.post(
        f"/api/v1/campaigns/{cid}/targets", json={"target_ids": ids[:2]}, headers=bearer(keys.admin)
    )
    assert r.json()["target_ids"] == ids[:2]
    listed = client.get("/api/v1/campaigns", headers=bearer(keys.reader)).json()
    assert listed["campaigns"][0]["target_count"] == 2
    in_campaign = client.get(
        "/api/v1/targets?campaign=Transits", headers=bearer(keys.reader)
    ).json()
    assert {t["target_id"] for t in in_campaign["targets"]} == set(ids[:2])
    assert (
        client.post(
            "/api/v1/campaigns", json={"name": "Transits"}, headers=bearer(keys.admin)
        ).status_code
        == 409
    )


def test_alert_creates_then_updates_then_replays(client: TestClient, keys: Keys) -> None:
    alert = {
        "feed": "ztf",
        "alert_id": "2494185805015010011",
        "name": "ZTF23abcdefg",
        "ra_deg": 150.12345,
        "dec_deg": 2.54321,
        "magnitude": 18.4,
        "observed_at": "2026-11-22T08:00:00Z",
        "payload": {"candid": 2494185805015010011},
    }
    r = client.post("/api/v1/alerts", json=alert, headers=bearer(keys.broker))
    assert r.status_code == 201 and r.json()["status"] == "created"
    tid = r.json()["target_id"]
    again = client.post("/api/v1/alerts", json=alert, headers=bearer(keys.broker))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    nearby = {**alert, "alert_id": "2494185805015010012", "ra_deg": 150.12350, "magnitude": 17.9}
    r = client.post("/api/v1/alerts", json=nearby, headers=bearer(keys.broker))
    assert r.json() | {"raw_alert_id": 0} == {
        "status": "updated",
        "raw_alert_id": 0,
        "target_id": tid,
        "target_name": "ZTF23abcdefg",
    }
    target = client.get(f"/api/v1/targets/{tid}", headers=bearer(keys.reader)).json()
    assert target["magnitude"] == 17.9 and target["source"] == "ztf"
    bad = client.post(
        "/api/v1/alerts",
        json={**alert, "alert_id": "x", "dec_deg": -100},
        headers=bearer(keys.broker),
    )
    assert bad.status_code == 422


def test_openapi_lists_every_endpoint_and_health(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in [
        ("/api/v1/targets", "get"),
        ("/api/v1/targets", "post"),
        ("/api/v1/targets/{target_id}", "patch"),
        ("/api/v1/targets/cone", "get"),
        ("/api/v1/observations", "post"),
        ("/api/v1/observations", "get"),
        ("/api/v1/sites", "get"),
        ("/api/v1/sites", "post"),
        ("/api/v1/sites/{site_id}", "get"),
        ("/api/v1/sites/{site_id}/heartbeat", "put"),
        ("/api/v1/campaigns", "get"),
        ("/api/v1/campaigns/{campaign_id}", "get"),
        ("/api/v1/alerts", "post"),
        ("/api/v1/lightcurve/{target_id}", "get"),
        ("/api/v1/keys", "post"),
        ("/api/v1/auth/login", "post"),
        ("/healthz", "get"),
    ]:
        assert method in paths.get(path, {}), (path, method)
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["database"] == "ok"
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and "openapi" in r.json()["message"]
