"""GCN Kafka JSON: the real notices, LVK igwn.gwalert with an embedded multi-order sky map."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

from datas_core.alerts import AlertParseError, parse_any
from datas_core.alerts.gcn_json import parse_gcn_json, schema_name

NOTICES = [
    "swift_bat_guano.json",
    "swift_bat_guano_retraction.json",
    "einstein_probe_wxt_alert.json",
    "icecube_gold_bronze_track.json",
]


@pytest.mark.parametrize("name", NOTICES)
def test_every_gcn_notice_parses_with_key_position_and_time(fixtures: Path, name: str) -> None:
    path = fixtures / "gcn_json" / name
    doc = json.loads(path.read_text())
    [alert] = parse_any(path.read_bytes(), content_type="application/json").alerts
    assert alert.feed == "gcn"
    assert alert.key.startswith(schema_name(doc["$schema"]) + ":" + doc["id"][0] + ":")
    if "ra" in doc:
        assert alert.position is not None
        assert (alert.position.ra_deg, alert.position.dec_deg) == (doc["ra"], doc["dec"])
        assert alert.position.error_deg == doc["ra_dec_error"]
        assert alert.position.containment == doc.get("containment_probability", 0.9)
    else:
        assert alert.position is None
    assert alert.event_time is not None
    assert alert.event_time.isoformat().startswith(doc["trigger_time"][:19])
    assert alert.raw == path.read_bytes()
    assert parse_any(path.read_bytes()) == parse_any(path.read_bytes())


def test_guano_without_position_and_its_retraction(fixtures: Path) -> None:
    [notice] = parse_any((fixtures / "gcn_json" / "swift_bat_guano.json").read_bytes()).alerts
    [retraction] = parse_any(
        (fixtures / "gcn_json" / "swift_bat_guano_retraction.json").read_bytes()
    ).alerts
    assert notice.position is None and notice.skymap is None
    assert notice.retracted is False
    assert notice.classification == "GRB" and notice.classification_probability == 1.0
    assert retraction.retracted is True
    assert retraction.alert_type == "retraction"
    assert retraction.event_id == notice.event_id == "swift:694215995"
    assert retraction.key != notice.key  # record 4 vs record 1: both are kept
    assert notice.key == "gcn.notices.swift.bat.guano:694215995:record1"


def test_icecube_track_has_error_circle_and_map_url(fixtures: Path) -> None:
    [alert] = parse_any(
        (fixtures / "gcn_json" / "icecube_gold_bronze_track.json").read_bytes()
    ).alerts
    assert alert.event_id == "icecube:137840_57034692"
    assert alert.name == "IceCube-230416A"
    assert alert.position is not None
    assert (alert.position.error_deg, alert.position.containment) == (0.5, 0.9)
    assert alert.skymap is not None and alert.skymap.url is not None
    assert alert.skymap.url.endswith("probability.fits.gz") and alert.skymap.data is None
    assert alert.details["p_astro"] == pytest.approx(0.34064)


def test_einstein_probe_mission_comes_from_the_schema(fixtures: Path) -> None:
    [alert] = parse_any(
        (fixtures / "gcn_json" / "einstein_probe_wxt_alert.json").read_bytes()
    ).alerts
    assert alert.event_id == "einstein_probe:01708973486"
    assert alert.description is not None and "net count rate" in alert.description


def test_svom_notice_from_the_documented_shape() -> None:
    notice = {
        "$schema": "https://gcn.nasa.gov/schema/v6.1.0/gcn/notices/svom/trigger.schema.json",
        "instrument": "ECLAIRs",
        "alert_datetime": "2024-02-22T08:51:55",
        "alert_tense": "test",
        "alert_type": "update",
        "id": ["sb24022203"],
        "trigger_time": "2024-02-22T08:51:31.320000",
        "ra": 143.2478,
        "dec": -68.0289,
        "ra_dec_error": 0.1,
    }
    [alert] = parse_any(json.dumps(notice).encode()).alerts
    assert alert.event_id == "svom:sb24022203"
    assert alert.role == "test"
    assert alert.key == "gcn.notices.svom.trigger:sb24022203:2024-02-22T08:51:55"


def _multiorder_skymap() -> tuple[bytes, int]:
    """A small multi-order (NUNIQ) sky map as LVK sends it: all sky at order 1 (48 pixels)."""
    order = 1
    uniq = 4 * 4**order + np.arange(12 * 4**order, dtype=np.int64)
    density = np.full(uniq.size, 1.0 / (4 * np.pi))
    table = fits.BinTableHDU.from_columns(
        [
            fits.Column(name="UNIQ", format="K", array=uniq),
            fits.Column(name="PROBDENSITY", format="D", array=density, unit="sr-1"),
        ]
    )
    table.header["PIXTYPE"] = "HEALPIX"
    table.header["ORDERING"] = "NUNIQ"
    table.header["MOCORDER"] = order
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(buffer)
    return buffer.getvalue(), uniq.size


def _lvk(alert_type: str = "PRELIMINARY", **event: Any) -> dict[str, Any]:
    """gcn-schema's Igwn example shape (gcn/notices/LVK/Igwn.*.example.json)."""
    skymap, _rows = _multiorder_skymap()
    body: dict[str, Any] = {
        "time": "2018-11-01T22:22:46.654Z",
        "far": 9.11069936486e-14,
        "significant": True,
        "instruments": ["H1", "L1", "V1"],
        "group": "CBC",
        "pipeline": "gstlal",
        "search": "MDC",
        "properties": {"HasNS": 0.95, "HasRemnant": 0.91, "HasMassGap": 0.01},
        "classification": {"BNS": 0.95, "NSBH": 0.01, "BBH": 0.03, "Terrestrial": 0.01},
        "duration": None,
        "central_frequency": None,
        "skymap": base64.b64encode(skymap).decode(),
    }
    body.update(event)
    return {
        "$schema": "https://gcn.nasa.gov/schema/gcn/notices/LVK/Igwn.schema.json",
        "alert_type": alert_type,
        "time_created": "2018-11-01T22:34:49Z",
        "superevent_id": "MS181101ab",
        "urls": {"gracedb": "https://example.org/superevents/MS181101ab/view/"},
        "event": body,
        "external_coinc": None,
    }


def test_lvk_alert_keeps_the_embedded_multiorder_map_and_reads_its_header() -> None:
    skymap, rows = _multiorder_skymap()
    [alert] = parse_gcn_json(json.dumps(_lvk()).encode(), topic="igwn.gwalert").alerts
    assert alert.key == "MS181101ab:PRELIMINARY:2018-11-01T22:34:49Z"
    assert alert.event_id == "lvk:MS181101ab"
    assert alert.role == "test"  # MS...: a mock event
    assert alert.position is None
    assert alert.skymap is not None
    assert alert.skymap.data == skymap
    assert (alert.skymap.ordering, alert.skymap.pixels, alert.skymap.max_order) == (
        "NUNIQ",
        rows,
        1,
    )
    assert alert.classification == "BNS"
    assert alert.details["HasNS"] == 0.95
    assert alert.details["instruments"] == "H1,L1,V1"
    assert alert.links[0].url == "https://example.org/superevents/MS181101ab/view/"


def test_lvk_retraction_and_unreadable_map() -> None:
    retraction = _lvk("RETRACTION")
    retraction["event"] = None
    retraction["time_created"] = "2018-11-01T23:36:23Z"
    [alert] = parse_any(json.dumps(retraction).encode()).alerts
    assert alert.retracted is True and alert.event_id == "lvk:MS181101ab"
    # gcn-schema's own examples cut the map short ("...U0lNUExF..."): keep the alert, say why.
    [partial] = parse_any(
        json.dumps(_lvk(skymap="U0lNUExFICA9ICAgICAgICAgICAgICAgICAgICBUIC8gY29uZm...")).encode()
    ).alerts
    assert partial.skymap is None
    assert any("not valid base64" in w for w in partial.warnings)


def test_notice_without_a_schema_needs_a_topic() -> None:
    notice = {"id": ["1"], "trigger_time": "2024-01-01T00:00:00Z", "ra": 1.0, "dec": 2.0}
    with pytest.raises(AlertParseError, match="unknown shape"):
        parse_any(json.dumps(notice).encode())
    [alert] = parse_any(json.dumps(notice).encode(), topic="gcn.notices.example").alerts
    assert alert.key.startswith("gcn.notices.example:1:")
