"""ZTF Avro packets: every real fixture, containers, schema 4.x by field presence, bad packets."""

from __future__ import annotations

import copy
import io
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import fastavro
import pytest

from datas_core.alerts import AlertParseError, parse_any
from datas_core.alerts.ztf_avro import parse_ztf_avro

ZTF_FILES = [
    "ztf_2019_01_10_739260766315010006.avro",
    "ztf_472263571115115000.avro",
    "fink_ZTF19acihgng.avro",
    "fink_sample_alert_1.avro",
    "fink_multi_3_alerts.avro",
]
BAND = {1: "ztfg", 2: "ztfr", 3: "ztfi"}


def _records(path: Path) -> tuple[Any, list[dict[str, Any]]]:
    """Read independently of the parser: the writer schema and the raw records."""
    with path.open("rb") as handle:
        reader = fastavro.reader(handle)
        records: list[dict[str, Any]] = [dict(r) for r in reader]  # type: ignore[arg-type]
        return reader.writer_schema, records


def _jd(jd: float) -> datetime:
    return datetime(2000, 1, 1, 12, tzinfo=timezone.utc) + timedelta(days=jd - 2451545.0)


def _container(schema: Any, records: list[dict[str, Any]], *, sync_interval: int = 16000) -> bytes:
    buffer = io.BytesIO()
    fastavro.writer(buffer, schema, records, sync_interval=sync_interval)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ZTF_FILES)
def test_every_ztf_fixture_parses_with_key_position_time_band_history(
    fixtures: Path, name: str
) -> None:
    _schema, records = _records(fixtures / "ztf" / name)
    outcome = parse_any((fixtures / "ztf" / name).read_bytes(), filename=name)
    assert outcome.errors == []
    assert len(outcome.alerts) == len(records)
    for alert, record in zip(outcome.alerts, records, strict=True):
        cand = record["candidate"]
        assert alert.key == str(record["candid"])
        assert alert.event_id == f"ztf:{record['objectId']}"
        assert alert.name == record["objectId"]
        assert alert.position is not None
        assert alert.position.ra_deg == pytest.approx(cand["ra"], abs=1e-9)
        assert alert.position.dec_deg == pytest.approx(cand["dec"], abs=1e-9)
        assert alert.event_time is not None
        assert abs((alert.event_time - _jd(cand["jd"])).total_seconds()) < 0.01
        assert alert.brightness is not None
        assert alert.brightness.band == BAND[cand["fid"]]
        assert alert.brightness.mag == pytest.approx(cand["magpsf"])
        assert alert.brightness.mag_err == pytest.approx(cand["sigmapsf"])
        prv = record["prv_candidates"] or []
        assert len(alert.history) == len(prv)
        limits = [p for p in prv if p["candid"] is None]
        assert sum(point.upper_limit for point in alert.history) == len(limits)
        for point, p in zip(alert.history, prv, strict=True):
            assert abs((point.time - _jd(p["jd"])).total_seconds()) < 0.01
            assert point.band == BAND[p["fid"]]
            if p["candid"] is None:
                assert point.limit_mag == pytest.approx(p["diffmaglim"])
            else:
                assert point.mag == pytest.approx(p["magpsf"])
        assert alert.negative_subtraction == (cand["isdiffpos"] in ("f", "0"))
        assert alert.real_bogus == pytest.approx(cand.get("drb") or cand["rb"])
        assert alert.solar_system_object is False  # none of these is near a known asteroid
        assert alert.role == "observation"
        assert alert.raw_content_type == "application/avro"


def test_single_alert_keeps_the_payload_unchanged(fixtures: Path) -> None:
    data = (fixtures / "ztf" / "ztf_472263571115115000.avro").read_bytes()
    [alert] = parse_any(data).alerts
    assert alert.raw == data


def test_three_alert_container_gives_three_alerts_each_with_its_own_raw(fixtures: Path) -> None:
    data = (fixtures / "ztf" / "fink_multi_3_alerts.avro").read_bytes()
    outcome = parse_any(data, content_type="avro/binary")
    assert len(outcome.alerts) == 3
    assert [a.name for a in outcome.alerts] == ["ZTF19abbpaqb", "ZTF18acjzbxi", "ZTF18abecvir"]
    assert len({a.key for a in outcome.alerts}) == 3
    for alert in outcome.alerts:
        # Each slice is a container of its own that parses back to the same alert.
        assert parse_any(alert.raw).alerts == [alert]


def test_fink_enriched_alert_is_the_fink_feed_with_its_crossmatch(fixtures: Path) -> None:
    [alert] = parse_any((fixtures / "ztf" / "fink_sample_alert_1.avro").read_bytes()).alerts
    assert alert.feed == "fink"
    assert alert.classification == "RRLyr"  # cdsxmatch
    assert alert.details["topic"] == "ztf-simulator"
    [plain] = parse_any((fixtures / "ztf" / "ztf_472263571115115000.avro").read_bytes()).alerts
    assert plain.feed == "ztf"
    [forced] = parse_ztf_avro(
        (fixtures / "ztf" / "ztf_472263571115115000.avro").read_bytes(), feed="lasair"
    ).alerts
    assert forced.feed == "lasair"


def test_negative_subtraction_is_flagged(fixtures: Path) -> None:
    [alert] = parse_any(
        (fixtures / "ztf" / "ztf_2019_01_10_739260766315010006.avro").read_bytes()
    ).alerts
    assert alert.negative_subtraction is True  # isdiffpos 'f' in this packet


def test_parse_twice_gives_equal_results(fixtures: Path) -> None:
    for name in ZTF_FILES:
        data = (fixtures / "ztf" / name).read_bytes()
        assert parse_any(data) == parse_any(data)


# A schema 4.x-shaped packet (fields ZTF added: fp_hists forced photometry) with a known
# asteroid and a negative subtraction: read by the fields present, not by the version number.
_V4_SCHEMA = {
    "type": "record",
    "name": "alert",
    "namespace": "ztf",
    "fields": [
        {"name": "schemavsn", "type": "string"},
        {"name": "publisher", "type": "string"},
        {"name": "objectId", "type": "string"},
        {"name": "candid", "type": "long"},
        {
            "name": "candidate",
            "type": {
                "type": "record",
                "name": "candidate",
                "fields": [
                    {"name": "jd", "type": "double"},
                    {"name": "fid", "type": "int"},
                    {"name": "candid", "type": "long"},
                    {"name": "ra", "type": "double"},
                    {"name": "dec", "type": "double"},
                    {"name": "magpsf", "type": "float"},
                    {"name": "sigmapsf", "type": "float"},
                    {"name": "isdiffpos", "type": "string"},
                    {"name": "diffmaglim", "type": ["float", "null"]},
                    {"name": "rb", "type": ["float", "null"]},
                    {"name": "drb", "type": ["float", "null"]},
                    {"name": "ssdistnr", "type": ["float", "null"]},
                    {"name": "ssmagnr", "type": ["float", "null"]},
                    {"name": "ssnamenr", "type": ["string", "null"]},
                ],
            },
        },
        {
            "name": "prv_candidates",
            "type": [
                {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "prv_candidate",
                        "fields": [
                            {"name": "jd", "type": "double"},
                            {"name": "fid", "type": "int"},
                            {"name": "candid", "type": ["long", "null"]},
                            {"name": "magpsf", "type": ["float", "null"]},
                            {"name": "sigmapsf", "type": ["float", "null"]},
                            {"name": "diffmaglim", "type": ["float", "null"]},
                            {"name": "isdiffpos", "type": ["string", "null"]},
                        ],
                    },
                },
                "null",
            ],
        },
        {
            "name": "fp_hists",
            "type": [
                {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "fp_hist",
                        "fields": [
                            {"name": "jd", "type": "double"},
                            {"name": "fid", "type": "int"},
                            {"name": "magzpsci", "type": ["float", "null"]},
                            {"name": "forcediffimflux", "type": ["float", "null"]},
                            {"name": "forcediffimfluxunc", "type": ["float", "null"]},
                            {"name": "procstatus", "type": ["string", "null"]},
                        ],
                    },
                },
                "null",
            ],
        },
    ],
}


def _v4_record(**candidate: Any) -> dict[str, Any]:
    cand = {
        "jd": 2460400.75,
        "fid": 2,
        "candid": 2700000000015015001,
        "ra": 10.5,
        "dec": -20.25,
        "magpsf": 19.25,
        "sigmapsf": 0.08,
        "isdiffpos": "0",
        "diffmaglim": 20.5,
        "rb": 0.7,
        "drb": 0.95,
        "ssdistnr": 1.2,
        "ssmagnr": 19.0,
        "ssnamenr": "12345",
    }
    cand.update(candidate)
    return {
        "schemavsn": "4.02",
        "publisher": "ZTF (www.ztf.caltech.edu)",
        "objectId": "ZTF24aaaaaaa",
        "candid": cand["candid"],
        "candidate": cand,
        "prv_candidates": [
            {
                "jd": 2460399.75,
                "fid": 1,
                "candid": None,
                "magpsf": None,
                "sigmapsf": None,
                "diffmaglim": 20.1,
                "isdiffpos": None,
            },
            {
                "jd": 2460399.8,
                "fid": 2,
                "candid": 2699000000015015001,
                "magpsf": 19.5,
                "sigmapsf": 0.1,
                "diffmaglim": 20.3,
                "isdiffpos": "t",
            },
        ],
        "fp_hists": [
            # zp 26, flux 1000 +- 50 (SNR 20): a detection at 26 - 2.5 log10(1000) = 18.5
            {
                "jd": 2460398.7,
                "fid": 2,
                "magzpsci": 26.0,
                "forcediffimflux": 1000.0,
                "forcediffimfluxunc": 50.0,
                "procstatus": "0",
            },
            # flux 10 +- 100 (SNR 0.1): a 5-sigma limit at 26 - 2.5 log10(500)
            {
                "jd": 2460397.7,
                "fid": 2,
                "magzpsci": 26.0,
                "forcediffimflux": 10.0,
                "forcediffimfluxunc": 100.0,
                "procstatus": "0",
            },
            # ZTF's "no value" sentinel: skipped
            {
                "jd": 2460396.7,
                "fid": 2,
                "magzpsci": 26.0,
                "forcediffimflux": -99999.0,
                "forcediffimfluxunc": -99999.0,
                "procstatus": "0",
            },
        ],
    }


def test_schema_4_fields_forced_photometry_asteroid_and_negative() -> None:
    [alert] = parse_any(_container(_V4_SCHEMA, [_v4_record()])).alerts
    assert alert.key == "2700000000015015001"
    assert alert.details["schemavsn"] == "4.02"
    assert alert.solar_system_object is True  # ssdistnr 1.2" from asteroid 12345
    assert alert.solar_system_name == "12345"
    assert alert.negative_subtraction is True  # isdiffpos '0'
    assert alert.real_bogus == pytest.approx(0.95)  # drb wins over rb
    forced = [p for p in alert.history if p.forced]
    assert len(forced) == 2
    assert forced[0].mag == pytest.approx(18.5, abs=1e-6)
    assert forced[0].mag_err == pytest.approx(1.0857 / 20, rel=1e-6)
    assert forced[1].upper_limit and forced[1].limit_mag == pytest.approx(
        26.0 - 2.5 * math.log10(500.0), abs=1e-5
    )
    previous = [p for p in alert.history if not p.forced]
    assert [p.upper_limit for p in previous] == [True, False]


def test_far_asteroid_is_not_the_source() -> None:
    [alert] = parse_any(_container(_V4_SCHEMA, [_v4_record(ssdistnr=25.0)])).alerts
    assert alert.solar_system_object is False


def test_one_bad_alert_in_a_container_does_not_lose_the_others(fixtures: Path) -> None:
    schema, records = _records(fixtures / "ztf" / "fink_multi_3_alerts.avro")
    bad = copy.deepcopy(records)
    bad[1]["candidate"]["dec"] = 95.0
    bad[2]["candidate"]["magpsf"] = float("nan")
    outcome = parse_any(_container(schema, bad))
    assert [a.name for a in outcome.alerts] == ["ZTF19abbpaqb"]
    assert [e.index for e in outcome.errors] == [1, 2]
    assert "dec = 95" in str(outcome.errors[0])
    assert str(records[1]["candid"]) in str(outcome.errors[0])
    assert "finite" in str(outcome.errors[1])


def test_container_cut_short_keeps_the_alerts_before_the_cut(fixtures: Path) -> None:
    schema, records = _records(fixtures / "ztf" / "fink_multi_3_alerts.avro")
    data = _container(schema, records, sync_interval=1)  # one block per alert
    outcome = parse_any(data[: len(data) - 5000])
    assert len(outcome.alerts) == 2
    [error] = outcome.errors
    assert "truncated or corrupt after 2 alert(s)" in str(error)


def test_truncated_single_alert_is_refused(fixtures: Path) -> None:
    data = (fixtures / "ztf" / "ztf_472263571115115000.avro").read_bytes()
    for cut in (10, 200, len(data) // 2, len(data) - 17):
        with pytest.raises(AlertParseError, match="Avro container"):
            parse_any(data[:cut])
    # Only the closing sync marker lost: the alert itself is whole, the damage is still reported.
    outcome = parse_any(data[:-1])
    assert len(outcome.alerts) == 1
    assert "truncated or corrupt after 1 alert(s)" in str(outcome.errors[0])


def test_compressed_container_is_refused(fixtures: Path) -> None:
    schema, records = _records(fixtures / "ztf" / "ztf_472263571115115000.avro")
    buffer = io.BytesIO()
    fastavro.writer(buffer, schema, records, codec="deflate")
    with pytest.raises(AlertParseError, match="codec 'deflate'"):
        parse_any(buffer.getvalue())


def test_avro_that_is_not_a_ztf_alert_is_refused() -> None:
    schema = {"type": "record", "name": "x", "fields": [{"name": "a", "type": "int"}]}
    outcome = parse_any(_container(schema, [{"a": 1}]))
    assert outcome.alerts == []
    assert "no 'candidate' record" in str(outcome.errors[0])
