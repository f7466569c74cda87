"""TNS (API JSON, daily CSV), Gaia alerts CSV and today's DATAS JSON, from documented formats."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from datas_core.alerts import AlertParseError, parse_any
from datas_core.alerts.tns import search_names

from .conftest import DATA


def test_tns_get_object_reply() -> None:
    data = (DATA / "tns_get_object.json").read_bytes()
    reply = json.loads(data)["data"]["reply"]
    [alert] = parse_any(data, content_type="application/json").alerts
    assert alert.feed == "tns"
    assert alert.key == "2024zqx:2024-11-04 17:02:11"  # objname + lastmodified
    assert alert.event_id == "tns:2024zqx"
    assert alert.name == "SN 2024zqx"
    assert alert.position is not None
    assert alert.position.ra_deg == pytest.approx(reply["radeg"])
    assert alert.position.dec_deg == pytest.approx(reply["decdeg"])
    assert (
        alert.event_time is not None and alert.event_time.isoformat() == "2024-11-02T09:14:24+00:00"
    )
    assert alert.brightness is not None
    assert (alert.brightness.mag, alert.brightness.band) == (17.12, "r")
    assert alert.classification == "SN Ia"
    assert alert.aliases == ("ZTF24abcdefg", "ATLAS24xyz")
    assert alert.raw == data


def test_tns_sexagesimal_only_reply_matches_the_degrees() -> None:
    doc = json.loads((DATA / "tns_get_object.json").read_text())
    reply = doc["data"]["reply"]
    del reply["radeg"], reply["decdeg"]
    [alert] = parse_any(json.dumps(doc).encode()).alerts
    assert alert.position is not None
    assert alert.position.ra_deg == pytest.approx(185.73389167, abs=1e-6)
    assert alert.position.dec_deg == pytest.approx(15.82616111, abs=1e-6)


def test_tns_search_reply_has_names_only() -> None:
    data = (DATA / "tns_search.json").read_bytes()
    assert search_names(data) == ["2024zqx", "2024zqy"]
    with pytest.raises(AlertParseError, match="names only"):
        parse_any(data)


def test_tns_error_reply_says_what_tns_said() -> None:
    body = {"id_code": 429, "id_message": "Too Many Requests", "data": {}}
    with pytest.raises(AlertParseError, match="id_code 429: Too Many Requests"):
        parse_any(json.dumps(body).encode())


def test_tns_daily_csv_rows_and_one_bad_row() -> None:
    data = (DATA / "tns_public_objects.csv").read_bytes()
    rows = list(csv.DictReader(data.decode().splitlines()[1:]))
    outcome = parse_any(data, filename="tns_public_objects.csv")
    assert [a.key for a in outcome.alerts] == [f"{r['name']}:{r['lastmodified']}" for r in rows[:2]]
    for alert, row in zip(outcome.alerts, rows, strict=False):
        assert alert.position is not None
        assert alert.position.ra_deg == pytest.approx(float(row["ra"]))
        assert alert.position.dec_deg == pytest.approx(float(row["declination"]))
        assert alert.brightness is not None and alert.brightness.band == row["filter"]
        # Each row keeps the header with it, so it parses on its own.
        assert parse_any(alert.raw).alerts == [alert]
    [error] = outcome.errors
    assert error.index == 2 and "dec = 95" in str(error) and "2024zzc" in str(error)


def test_gaia_csv_archive_rows_and_one_bad_row(fixtures: Path) -> None:
    data = (DATA / "gaia_alerts.csv").read_bytes()
    outcome = parse_any(data)
    assert [a.key for a in outcome.alerts] == ["Gaia16aac", "Gaia24zzq"]
    gaia16aac = outcome.alerts[0]
    assert gaia16aac.feed == "gaia" and gaia16aac.event_id == "gaia:Gaia16aac"
    assert gaia16aac.position is not None
    assert (gaia16aac.position.ra_deg, gaia16aac.position.dec_deg) == (73.29423, 7.35212)
    assert gaia16aac.brightness is not None
    assert (gaia16aac.brightness.mag, gaia16aac.brightness.band) == (17.32, "G")
    assert gaia16aac.classification == "SN"
    assert outcome.alerts[1].classification is None  # "unknown"
    assert outcome.alerts[1].details == {"HistoricMag": 17.85, "HistoricStdDev": 0.21}
    [error] = outcome.errors
    assert error.key == "Gaia24zzr" and "dec = 95" in str(error)
    # The VOEvent of the same alert lands on the same event.
    [voevent] = parse_any((fixtures / "voevent" / "Gaia16aac.xml").read_bytes()).alerts
    assert voevent.event_id == gaia16aac.event_id


def _datas(**fields: object) -> bytes:
    body: dict[str, object] = {
        "feed": "ztf",
        "alert_id": "1060135832015015002",
        "name": "ZTF19acihgng",
        "ra_deg": 289.8937586,
        "dec_deg": 61.8469285,
        "magnitude": 18.63,
        "observed_at": "2019-11-27T03:15:36Z",
        "classification": "SN",
    }
    body.update(fields)
    return json.dumps(body, allow_nan=True).encode()


def test_todays_datas_json_goes_through_the_same_form() -> None:
    [alert] = parse_any(_datas()).alerts
    assert (alert.feed, alert.key, alert.event_id) == (
        "ztf",
        "1060135832015015002",
        "ztf:ZTF19acihgng",
    )
    assert alert.position is not None and alert.position.dec_deg == 61.8469285
    assert alert.brightness is not None and alert.brightness.mag == 18.63
    assert alert.details["match_radius_arcsec"] == 2.0
    many = json.dumps([json.loads(_datas()), json.loads(_datas(alert_id="2", dec_deg=95))])
    outcome = parse_any(many.encode())
    assert len(outcome.alerts) == 1
    assert outcome.errors[0].index == 1 and "dec_deg" in str(outcome.errors[0])


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"dec_deg": 95}, "dec_deg"),
        ({"magnitude": float("nan")}, "NaN"),
        ({"observed_at": "1900-01-01T00:00:00Z"}, "before 1990"),
        ({"classification": "x" * 10_000_000}, "classification"),
        ({"ra_deg": None}, "ra_deg"),
    ],
)
def test_datas_json_with_absurd_fields_is_refused(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(AlertParseError, match=reason):
        parse_any(_datas(**fields))
