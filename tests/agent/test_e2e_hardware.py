"""The whole agent on real device simulators, end to end: site.yaml -> `build_agent` (what
`datas-agent once` and `run` do) -> cycles against a real API process.

INDI: Debian's indiserver with the telescope, CCD, filter wheel, weather, focuser and dome
simulators. The agent opens the dome, slews, exposes, uploads; raising the simulator's wind
makes it park the mount and close the dome, and its heartbeat says so.

Alpaca: the alpaca-simulators package. Its light frames are rendered by cabaret from Gaia,
which it queries online by default; it also reads a local SQLite catalog (`tap_source`), so here
it renders real star fields offline from a catalog written by the test. With that catalog
broken, a light exposure fails (CameraState 5): the agent recovers the camera (AbortExposure),
parks and closes the dome, uploads nothing for the failed frames, and observes once repaired.
Both run on SQLite only: the database path is the same as in test_agent_live.py.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from astropy.io import fits

from benchmarks.harness import api_server
from datas_core.db import make_engine, make_session_factory, session_scope
from datas_core.schemas.auth import KeyCreate
from datas_core.schemas.sites import SiteCreate
from datas_core.schemas.targets import TargetCreate
from datas_core.services import auth, sites, targets
from datas_core.sky.night import midnight_longitude_deg
from datas_core.sky.time import julian_date, local_sidereal_time_deg
from site_agent.config import load_config
from site_agent.executor import TRANSITIONS, Agent
from site_agent.runner import build_agent
from site_agent.template import render
from tests.agent.simulators import alpaca_config, alpaca_simulators, indi_server, star_catalog

SITE = "e2e"
LATITUDE = 30.0
INDI_DRIVERS = [
    "indi_simulator_telescope",
    "indi_simulator_ccd",
    "indi_simulator_wheel",
    "indi_simulator_weather",
    "indi_simulator_focus",
    "indi_simulator_dome",
]


@pytest.fixture
def site(db_url: str) -> Iterator[dict[str, Any]]:
    """A site where it is night now, with three targets high in the east (1 s x 2 in V): the
    INDI mount simulator is a German mount that slews through the pole to cross the meridian."""
    now = julian_date(datetime.now(timezone.utc))
    lon = midnight_longitude_deg(float(now))
    zenith_ra = float(local_sidereal_time_deg(now, lon))
    engine = make_engine(db_url)
    with session_scope(make_session_factory(engine)) as s:
        sites.create_site(
            s,
            SiteCreate(
                site_id=SITE,
                name="Simulated hardware",
                latitude=LATITUDE,
                longitude=lon,
                filters=["V", "R"],
                aperture_mm=200,
            ),
        )
        made = targets.create_targets(
            s,
            [
                TargetCreate(
                    name=f"H{i}",
                    ra_deg=(zenith_ra + 18 + 6 * i) % 360,  # 1.2 h to 2 h east
                    dec_deg=LATITUDE - 3.0 + i,
                    priority=9 - i,
                    magnitude=11.0,
                    exposure_hints={"exposure_sec": 1, "count": 2, "filter": "V"},
                )
                for i in range(3)
            ],
        )
        s.flush()
        rows = [(t.target_id, t.ra_deg, t.dec_deg) for t in made]
        _, key = auth.create_key(s, KeyCreate(role="site", site_id=SITE))
    yield {"db_url": db_url, "key": key, "targets": rows, "longitude": lon}
    engine.dispose()


def _site_yaml(
    tmp_path: Path, base: str, key: str, driver: str, url: str, limits: str, safety: str = ""
) -> Path:
    """The file `datas-agent init` writes, with a focuser, a dome and this test's settings."""
    text = render(SITE, base, key, driver, url, "site.yaml")
    for old, new in [
        ("poll_seconds: 60", "poll_seconds: 0.01"),
        ("heartbeat_seconds: 60", "heartbeat_seconds: 0.01"),
        ("holdoff_seconds: 900", "holdoff_seconds: 0.5"),
        ("min_free_disk_mb: 1024", "min_free_disk_mb: 1" + safety),
        ("  enabled: false                   # true: report it", "  enabled: true  # report it"),
        ("  enabled: false                   # true: opened", "  enabled: true  # opened"),
        ("limits: {}", "limits:\n" + limits),
    ]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


def _get(base: str, key: str, path: str) -> Any:
    r = httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def _observations(base: str, key: str) -> list[dict[str, Any]]:
    return list(_get(base, key, f"/api/v1/observations?site_id={SITE}&limit=100")["observations"])


def _check_history(agent: Agent) -> None:
    for _, old, new in agent.history:
        assert new in TRANSITIONS[old], (old, new)


# -- INDI ------------------------------------------------------------------------------------
def _prepare_indi(url: str, longitude: float) -> Any:
    """What a site owner sets up once in their INDI client: where the mount stands, its park
    position (here the zenith: the simulator slews at a few degrees a second), the filter names;
    and for the test, a fast CCD simulator and the mount parked at the start."""
    from site_agent.devices.indi_driver import IndiMount, IndiSession

    host, port = url.removeprefix("indi://").split(":")
    s = IndiSession(host, int(port))
    iface = s.indi.BaseDevice
    mount = IndiMount(s)
    where = s.number(mount.dev, "GEOGRAPHIC_COORD")
    for e in where:
        if e.getName() == "LAT":
            e.setValue(LATITUDE)
        elif e.getName() == "LONG":
            e.setValue(longitude % 360.0)  # INDI: 0..360 east
    s.client.sendNewProperty(where)
    mount.unpark()
    s.set_switch(mount.dev, "ON_COORD_SET", "SYNC")  # it points 1 h east of the zenith
    jd = julian_date(datetime.now(timezone.utc))
    eq = s.number(mount.dev, "EQUATORIAL_EOD_COORD")
    eq[0].setValue((float(local_sidereal_time_deg(jd, longitude)) / 15.0 + 1.0) % 24.0)
    eq[1].setValue(LATITUDE)
    s.client.sendNewProperty(eq)
    deadline = time.time() + 20
    while abs(mount.status().properties["dec_deg"] - LATITUDE) > 0.01:
        assert time.time() < deadline, "the mount did not take the sync"
        time.sleep(0.1)
    s.set_switch(mount.dev, "TELESCOPE_PARK_OPTION", "PARK_CURRENT")
    ccd = s.device(iface.CCD_INTERFACE, "camera")
    settings = s.number(ccd, "SIMULATOR_SETTINGS")
    for e in settings:
        if e.getName() == "SIM_TIME_FACTOR":
            e.setValue(0.1)
    s.client.sendNewProperty(settings)
    wheel = s.device(iface.FILTER_INTERFACE, "filter wheel")
    names = s.text(wheel, "FILTER_NAME")
    for e, name in zip(names, ["B", "V", "R"], strict=False):
        e.setText(name)
    s.client.sendNewProperty(names)
    for dev in (
        s.device(iface.WEATHER_INTERFACE, "weather"),
        s.device(iface.DOME_INTERFACE, "dome"),
    ):
        assert dev.isConnected()
    s.device(iface.FOCUSER_INTERFACE, "focuser")
    mount.park()
    deadline = time.time() + 20
    while [e.getText() for e in s.text(wheel, "FILTER_NAME")][:3] != ["B", "V", "R"]:
        assert time.time() < deadline, "the wheel did not take the filter names"
        time.sleep(0.1)
    return s


def _indi_switch_on(s: Any, interface: int, prop: str) -> set[str]:
    dev = s.device(interface, prop)
    return {e.getName() for e in s.switch(dev, prop) if e.getState() == s.indi.ISS_ON}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_indi_site_observes_uploads_and_parks_in_wind(site: dict[str, Any], tmp_path: Path) -> None:
    with indi_server(INDI_DRIVERS) as url, api_server(site["db_url"]) as base:
        prep = _prepare_indi(url, site["longitude"])
        iface = prep.indi.BaseDevice
        path = _site_yaml(
            tmp_path,
            base,
            site["key"],
            "indi",
            url,
            "  mount: {altitude_deg: {min: 15}}\n  focuser: {position: {min: 1000, max: 99000}}",
            # The INDI weather simulator measures wind, gust, rain and temperature: it has no
            # humidity or cloud sensor, so those readings are not required here.
            "\n  required_readings: [wind, rain]",
        )
        config = load_config(path)
        assert config.dome.enabled and config.focuser.enabled
        agent = build_agent(config)
        try:
            best_id, best_ra, best_dec = site["targets"][0]
            report = agent.cycle()
            assert report.reasons == [], report.reasons
            assert report.observed == [best_id] and report.queued == 2 and report.sent == 2
            assert agent.state == "ready"
            # The dome was opened, the mount slewed to the target (J2000 in, of date out).
            assert _indi_switch_on(prep, iface.DOME_INTERFACE, "DOME_SHUTTER") == {"SHUTTER_OPEN"}
            mount = agent.devices.mount.status().properties
            assert mount["parked"] is False and mount["altitude_deg"] > 60
            assert abs(mount["dec_deg"] - best_dec) < 0.5
            assert abs((mount["ra_deg"] - best_ra + 180) % 360 - 180) < 1.0
            frames = sorted((config.state_dir / "frames").glob("*.fits"))
            assert len(frames) == 2
            header = fits.getheader(frames[0])
            assert header["FILTER"] == "V" and header["EXPTIME"] == 1.0 and header["NAXIS"] == 2
            got = _observations(base, site["key"])
            assert len(got) == 2 and len({o["observation_id"] for o in got}) == 2
            assert {(o["site_id"], o["target_id"], o["filter"]) for o in got} == {
                (SITE, best_id, "V")
            }
            # The heartbeat carried every device's state (this one was sent before the slew).
            beat = _get(base, site["key"], f"/api/v1/sites/{SITE}")["latest_heartbeat"]
            agent_health = beat["devices"].pop("agent")  # the agent's own, next to its devices
            assert beat["devices"].pop("outbox")["dead"] == 0  # its upload backlog
            assert agent_health["error"] is None and agent_health["uploads"] == "ok"
            assert set(beat["devices"]) == {
                "mount",
                "camera",
                "wheel",
                "weather",
                "focuser",
                "dome",
            }
            assert {d["state"] for d in beat["devices"].values()} == {"ok"}
            assert beat["devices"]["dome"]["shutter"] == "closed"
            assert beat["devices"]["focuser"]["position"] == 50_000

            # Wind rises (the simulator's control, then a refresh): park, close the dome.
            weather = prep.device(iface.WEATHER_INTERFACE, "weather")
            control = prep.number(weather, "WEATHER_CONTROL")
            for e in control:
                if e.getName() == "Wind":
                    e.setValue(80.0)  # km/h
            prep.client.sendNewProperty(control)
            deadline = time.time() + 30
            while (agent.devices.weather.read().wind_ms or 0) < 15:
                assert time.time() < deadline, "the weather simulator did not take the wind"
                prep.set_switch(weather, "WEATHER_REFRESH", "REFRESH")
                time.sleep(0.5)
            report = agent.cycle()
            assert report.observed == [] and agent.state == "safe-hold"
            assert any("wind" in r for r in report.reasons), report.reasons
            assert _indi_switch_on(prep, iface.DOME_INTERFACE, "DOME_SHUTTER") == {"SHUTTER_CLOSE"}
            assert "PARK" in _indi_switch_on(prep, iface.TELESCOPE_INTERFACE, "TELESCOPE_PARK")
            agent.cycle()  # still windy: stays parked; its heartbeat tells the server
            beat = _get(base, site["key"], f"/api/v1/sites/{SITE}")["latest_heartbeat"]
            assert beat["state"] == "safe-hold" and beat["weather"]["safe"] is False
            assert beat["weather"]["wind_speed_ms"] > 15 and "wind" in beat["message"]
            assert beat["devices"]["dome"]["shutter"] == "closed"
            assert beat["devices"]["mount"]["parked"] is True
            assert len(_observations(base, site["key"])) == 2  # nothing more, nothing twice
            _check_history(agent)
        finally:
            agent.close()
            prep.close()


# -- Alpaca ----------------------------------------------------------------------------------
def _alpaca_config(site: dict[str, Any], catalog: Path) -> dict[str, Any]:
    config = alpaca_config(tap_source=str(catalog), gaia_query_timeout=10)
    devices = config["devices"]
    devices["telescope"][0].update(
        sitelatitude=LATITUDE,
        sitelongitude=(site["longitude"] + 180) % 360 - 180,
        focallength=1.0,  # a 20 cm f/5: 2"/px, a 0.3 deg field on 512 px
        aperturediameter=0.2,
        slew_rate=60.0,  # deg/s
    )
    devices["camera"][0].update(cameraxsize=512, cameraysize=512, numx=512, numy=512)
    devices["filterwheel"][0]["names"] = ["B", "V", "R", "I", "L"]
    return config


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_alpaca_site_observes_offline_star_fields_and_survives_a_failing_camera(
    site: dict[str, Any], tmp_path: Path
) -> None:
    catalog = star_catalog(tmp_path / "gaia.db", [(ra, dec) for _, ra, dec in site["targets"]], 0.5)
    with sqlite3.connect(catalog) as db:  # broken until the repair below
        db.execute("ALTER TABLE gaia_sources RENAME TO kept")
    with (
        alpaca_simulators(tmp_path, _alpaca_config(site, catalog)) as url,
        api_server(site["db_url"]) as base,
    ):
        path = _site_yaml(
            tmp_path,
            base,
            site["key"],
            "alpaca",
            url,
            "  mount: {altitude_deg: {min: 15}}\n  camera: {temperature_c: {max: -5}}\n"
            "  focuser: {position: {min: 5000, max: 15000}}",
        )
        config = load_config(path)
        assert config.dome.enabled and config.focuser.enabled
        agent = build_agent(config)
        try:
            # 1. The light exposure fails (the renderer finds no catalog): camera error state.
            report = agent.cycle()
            assert report.observed == [] and report.queued == 0
            assert any("the camera failed during the exposure" in r for r in report.reasons)
            assert agent.state == "safe-hold"
            status = agent.devices.camera.status()
            assert status.state == "ok"  # AbortExposure took it out of CameraState 5
            assert agent.devices.mount.status().properties["parked"] is True
            assert agent.devices.dome.status().properties["shutter"] == "closed"  # type: ignore[union-attr]
            assert _observations(base, site["key"]) == []
            assert not list((config.state_dir / "frames").glob("*.fits"))

            # 2. Repaired: the next cycle observes real star fields and uploads them once; the
            # target that failed waits its turn (failed_target_retry_minutes), the next one goes.
            with sqlite3.connect(catalog) as db:
                db.execute("ALTER TABLE kept RENAME TO gaia_sources")
            report = agent.cycle()
            assert report.reasons == [], report.reasons
            next_id = site["targets"][1][0]
            assert report.observed == [next_id] and report.queued == 2 and report.sent == 2
            assert agent.devices.dome.status().properties["shutter"] == "open"  # type: ignore[union-attr]
            frames = sorted((config.state_dir / "frames").glob("*.fits"))
            assert len(frames) == 2
            with fits.open(frames[0]) as hdul:
                data = np.asarray(hdul[0].data, dtype=float)
                header = hdul[0].header
            assert data.shape == (512, 512) and header["IMAGETYP"] == "Light Frame"
            assert data.max() > np.median(data) + 2000  # stars from the catalog, not noise
            got = _observations(base, site["key"])
            assert len(got) == 2 and len({o["observation_id"] for o in got}) == 2
            assert {(o["site_id"], o["target_id"]) for o in got} == {(SITE, next_id)}

            # 3. The heartbeat carries every device's state, with their limits checked.
            agent.cycle()
            beat = _get(base, site["key"], f"/api/v1/sites/{SITE}")["latest_heartbeat"]
            devices = beat["devices"]
            assert devices.pop("agent")["error"] is None  # the agent's own health
            assert devices.pop("outbox")["dead"] == 0  # its upload backlog
            assert set(devices) == {"mount", "camera", "wheel", "weather", "focuser", "dome"}
            assert {d["state"] for d in devices.values()} == {"ok"}, devices
            assert devices["camera"]["temperature_c"] == -20.0
            assert devices["focuser"]["position"] == 10_000
            assert devices["mount"]["altitude_deg"] > 60 and devices["dome"]["shutter"] == "open"
            assert len(_observations(base, site["key"])) == 4
            _check_history(agent)
        finally:
            agent.close()
