"""GET /api/v1/lightcurve/{target_id}: observations posted as a site would, read back as JSON,
CSV and AAVSO Extended, with BJD_TDB at mid-exposure."""

from __future__ import annotations

import csv
import io
import uuid
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from astropy import units as u
from astropy.coordinates import EarthLocation, SkyCoord
from astropy.time import Time
from fastapi.testclient import TestClient

from datas_api.app import create_app
from datas_core.lightcurves import COLUMNS
from datas_core.lightcurves.aavso import FIELDS
from tests.api.conftest import SITE_A, SITE_B, Keys, bearer

RA, DEC = 337.2925, 58.4152


@pytest.fixture
def target_id(client: TestClient, keys: Keys) -> int:
    r = client.post(
        "/api/v1/targets",
        json={"name": "delta Cep", "ra_deg": RA, "dec_deg": DEC, "target_type": "variable_star"},
        headers=bearer(keys.admin),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["target_id"])


def obs(target_id: int, site_id: str, observed_at: str, **extra: Any) -> dict:
    record = {
        "observation_id": str(uuid.uuid4()),
        "target_id": target_id,
        "site_id": site_id,
        "observed_at": observed_at,
        "exposure_sec": 30,
        "filter": "V",
        "airmass": 1.21,
        "magnitude": 4.07,
        "mag_error": 0.012,
        "comparison_stars": [{"name": "zeta Cep", "mag": 3.35}],
        "quality_flags": [],
    }
    record.update(extra)
    return record


@pytest.fixture
def posted(client: TestClient, keys: Keys, target_id: int) -> list[dict]:
    site_a = [
        obs(target_id, "site-a", "2026-09-10T21:00:00Z", magnitude=4.10),
        obs(target_id, "site-a", "2026-09-10T21:05:00Z", filter="B", magnitude=4.90),
        obs(target_id, "site-a", "2026-09-11T20:30:00+02:00", magnitude=4.20, exposure_sec=120),
        obs(
            target_id,
            "site-a",
            "2026-09-12T21:00:00Z",
            magnitude=4.30,
            quality_flags=["high_airmass"],
        ),
    ]
    site_b = [obs(target_id, "site-b", "2026-09-11T10:00:00Z", magnitude=4.15)]
    for key, batch in ((keys.site_a, site_a), (keys.site_b, site_b)):
        r = client.post("/api/v1/observations", json=batch, headers=bearer(key))
        assert r.status_code == 201, r.text
    return site_a + site_b


def get(client: TestClient, keys: Keys, target_id: int, **params: Any) -> Any:
    return client.get(f"/api/v1/lightcurve/{target_id}", params=params, headers=bearer(keys.reader))


def reference_bjd(iso: str, exposure: float, site: dict) -> float:
    location = EarthLocation.from_geodetic(
        site["longitude"] * u.deg, site["latitude"] * u.deg, site["elevation_m"] * u.m
    )
    start = datetime.fromisoformat(iso).astimezone(timezone.utc).replace(tzinfo=None)
    t = Time(start, scale="utc", location=location) + exposure / 2 * u.s
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ltt = t.light_travel_time(SkyCoord(RA * u.deg, DEC * u.deg), ephemeris="builtin")
        bjd = t.tdb + ltt
    return float(bjd.jd1 + bjd.jd2)


def test_json_rows_with_bjd_flags_and_provenance(
    client: TestClient, keys: Keys, target_id: int, posted: list[dict]
) -> None:
    r = get(client, keys, target_id)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert (body["target_id"], body["name"], body["total"]) == (target_id, "delta Cep", 5)
    assert body["filters"] == ["B", "V"] and body["next_offset"] is None
    rows = body["rows"]
    by_id = {p["observation_id"]: p for p in posted}
    assert [by_id[row["observation_id"]]["magnitude"] for row in rows] == [
        4.10,
        4.90,
        4.15,
        4.20,
        4.30,
    ]  # time order across sites (site-b's 10:00Z sits between the nights)
    for row in rows:
        sent = by_id[row["observation_id"]]
        site = SITE_A if row["site_id"] == "site-a" else SITE_B
        expected = reference_bjd(sent["observed_at"], sent["exposure_sec"], site)
        assert abs(row["bjd_tdb"] - expected) * 86400.0 < 1e-3  # within a millisecond
        assert row["filter"] == sent["filter"] and row["mag_error"] == 0.012
        assert row["quality_flags"] == sent["quality_flags"]
        assert row["flagged"] is bool(sent["quality_flags"])
        assert set(row) >= {"observed_at", "site_id", "frame_id", "observation_id", "jd_utc"}
    assert rows[3]["observed_at"].startswith("2026-09-11T18:30:00")  # normalized to UTC


def test_options_filter_site_window_good_only(
    client: TestClient, keys: Keys, target_id: int, posted: list[dict]
) -> None:
    def mags(**params: Any) -> list[float]:
        return [row["magnitude"] for row in get(client, keys, target_id, **params).json()["rows"]]

    assert mags(filter="B") == [4.90]
    assert mags(site_id="site-b") == [4.15]
    assert mags(good_only="true") == [4.10, 4.90, 4.15, 4.20]
    assert mags(after="2026-09-11T00:00:00Z", before="2026-09-12T00:00:00Z") == [4.15, 4.20]
    page = get(client, keys, target_id, limit=2, offset=1).json()
    assert [row["magnitude"] for row in page["rows"]] == [4.90, 4.15]
    assert (page["total"], page["next_offset"]) == (5, 3)
    r = get(client, keys, target_id, after="2026-09-11T00:00:00")
    assert r.status_code == 422 and "timezone" in r.json()["message"]


def test_csv_download(client: TestClient, keys: Keys, target_id: int, posted: list[dict]) -> None:
    r = get(client, keys, target_id, format="csv")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = r.headers["content-disposition"]
    assert disposition == f'attachment; filename="lightcurve_{target_id}_delta_Cep.csv"'
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert tuple(table[0]) == COLUMNS and len(table) == 5
    rows = get(client, keys, target_id).json()["rows"]
    assert [float(line["bjd_tdb"]) for line in table] == [row["bjd_tdb"] for row in rows]
    assert [line["quality_flags"] for line in table][-1] == "high_airmass"
    assert r.headers["x-total-count"] == "5"


def test_aavso_download(client: TestClient, keys: Keys, target_id: int, posted: list[dict]) -> None:
    r = get(client, keys, target_id, format="aavso", good_only="true")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["content-disposition"].endswith('.txt"')
    lines = r.text.splitlines()
    assert lines[:2] == ["#TYPE=EXTENDED", "#OBSCODE=DATAS"]  # the setting's placeholder
    assert "#DELIM=," in lines and "#DATE=JD" in lines and "#OBSTYPE=CCD" in lines
    data = [dict(zip(FIELDS, line.split(","), strict=True)) for line in lines if line[0] != "#"]
    assert [d["MAG"] for d in data] == ["4.100", "4.900", "4.150", "4.200"]
    assert [d["FILT"] for d in data] == ["V", "B", "V", "V"]
    assert {d["CNAME"] for d in data} == {"zeta Cep"}
    jd_mid = Time("2026-09-10T21:00:15", scale="utc").jd  # 30 s exposure: mid is +15 s
    assert float(data[0]["DATE"]) == pytest.approx(jd_mid, abs=1e-6)
    coded = get(client, keys, target_id, format="aavso", obscode="ABC12")
    assert coded.text.splitlines()[1] == "#OBSCODE=ABC12"


def test_obscode_from_settings(
    db_url: str, settings_for: Callable[..., Any], keys_for: Callable[..., Keys]
) -> None:
    app = create_app(settings_for(db_url, aavso_obscode="QQQ"))
    with TestClient(app) as client:
        keys = keys_for(client)
        r = client.post(
            "/api/v1/targets",
            json={"name": "T", "ra_deg": 1.0, "dec_deg": 2.0},
            headers=bearer(keys.admin),
        )
        r = get(client, keys, r.json()["target_id"], format="aavso")
        assert r.text.splitlines()[1] == "#OBSCODE=QQQ"
        assert len(r.text.splitlines()) == 8  # header only: no points yet


def test_errors_unknown_format_target_and_no_key(
    client: TestClient, keys: Keys, target_id: int
) -> None:
    r = get(client, keys, target_id, format="votable")
    assert r.status_code == 422
    message = r.json()["message"]
    assert all(name in message for name in ("'json'", "'csv'", "'aavso'"))
    r = get(client, keys, 999_999, format="csv")
    assert r.status_code == 404 and "target" in r.json()["message"]
    assert client.get(f"/api/v1/lightcurve/{target_id}").status_code == 401
    for key in (keys.site_a, keys.broker, keys.admin):
        r = client.get(f"/api/v1/lightcurve/{target_id}", headers=bearer(key))
        assert r.status_code == 200 and r.json()["rows"] == []
