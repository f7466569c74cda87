"""VOEvent XML: every real fixture (with and without namespace prefix), LVK, safety."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest

from datas_core.alerts import AlertParseError, parse_any
from datas_core.alerts.voevent import parse_voevent

from .conftest import DATA

VOEVENTS = [
    "SWIFT_bat_position_v2.0_example.xml",
    "SWIFT_xrt_position_v1.1_example.xml",
    "Gaia16aac.xml",
    "MOA_Lensing_Event_2015-07-10.xml",
    "no_namespace_packet.xml",
]


def _expected(path: Path) -> dict[str, object]:
    """Read with the standard library (these files are trusted), by local tag name."""
    root = ET.parse(path).getroot()

    def find(name: str) -> str:
        return next(
            el.text or "" for el in root.iter() if el.tag.rsplit("}", 1)[-1] == name
        ).strip()

    coord_system = next(
        el.get("coord_system_id", "") for el in root.iter() if el.tag.endswith("AstroCoords")
    )
    return {
        "ivorn": root.get("ivorn"),
        "role": root.get("role"),
        "ra": float(find("C1")),
        "dec": float(find("C2")),
        "error": float(find("Error2Radius")),
        "time": datetime.fromisoformat(find("ISOTime")).replace(tzinfo=timezone.utc),
        "utc": coord_system.startswith("UTC"),
    }


@pytest.mark.parametrize("name", VOEVENTS)
def test_every_voevent_fixture_parses_with_key_position_and_time(fixtures: Path, name: str) -> None:
    path = fixtures / "voevent" / name
    expected = _expected(path)
    [alert] = parse_any(path.read_bytes(), content_type="application/xml").alerts
    assert alert.feed == "voevent"
    assert alert.key == expected["ivorn"]
    assert alert.role == expected["role"]
    assert alert.position is not None
    assert alert.position.ra_deg == pytest.approx(expected["ra"])
    assert alert.position.dec_deg == pytest.approx(expected["dec"])
    if expected["error"]:
        assert alert.position.error_deg == pytest.approx(expected["error"])
    else:
        assert alert.position.error_deg is None  # 0 means "not given"
    assert alert.event_time is not None
    offset = abs((alert.event_time - expected["time"]).total_seconds())  # type: ignore[operator]
    # UTC times are exact; Gaia's barycentric TDB becomes UTC (about 68 s apart in 2016).
    assert offset < 0.001 if expected["utc"] else 60 < offset < 120
    assert alert.raw == path.read_bytes()
    assert parse_any(path.read_bytes()) == parse_any(path.read_bytes())


def test_swift_event_id_is_the_trigger_id_shared_by_bat_xrt_uvot(fixtures: Path) -> None:
    [bat] = parse_any(
        (fixtures / "voevent" / "SWIFT_bat_position_v2.0_example.xml").read_bytes()
    ).alerts
    [xrt] = parse_any(
        (fixtures / "voevent" / "SWIFT_xrt_position_v1.1_example.xml").read_bytes()
    ).alerts
    assert bat.event_id == "swift:532871"
    assert xrt.event_id == "swift:644259"  # its own trigger (the example files are unrelated)
    assert bat.name == "GRB 120907"
    assert bat.classification == "GRB"
    assert bat.classification_probability == pytest.approx(0.98)
    assert bat.position is not None and bat.position.containment == pytest.approx(0.9)
    assert bat.details["TrigID"] == "532871"
    assert bat.details["Solution_Status.GRB_Identified"] == "true"


def test_gaia_voevent_brightness_band_and_event(fixtures: Path) -> None:
    [alert] = parse_any((fixtures / "voevent" / "Gaia16aac.xml").read_bytes()).alerts
    assert alert.event_id == "gaia:Gaia16aac"
    assert alert.name == "Gaia16aac"
    assert alert.brightness is not None
    assert (alert.brightness.mag, alert.brightness.mag_err, alert.brightness.band) == (
        17.32,
        0.05,
        "G",
    )
    assert alert.classification == "candidate SN"
    assert any(link.url.endswith("/alerts/alert/Gaia16aac") for link in alert.links)


def test_moa_event_id_and_unprefixed_packet(fixtures: Path) -> None:
    [moa] = parse_any(
        (fixtures / "voevent" / "MOA_Lensing_Event_2015-07-10.xml").read_bytes()
    ).alerts
    assert moa.event_id == "moa:201500354"
    assert moa.position is not None and moa.position.error_deg is None
    [test] = parse_any((fixtures / "voevent" / "no_namespace_packet.xml").read_bytes()).alerts
    assert test.role == "test"
    assert test.details["Subscribe.Port"] == 8099


def test_lvk_voevent_classes_skymap_url_and_mock_role() -> None:
    [alert] = parse_any((DATA / "lvk_preliminary.xml").read_bytes()).alerts
    assert alert.event_id == "lvk:MS240501ab"
    assert alert.alert_type == "preliminary"
    assert alert.role == "test"
    assert alert.position is None
    assert alert.skymap is not None and alert.skymap.url is not None
    assert alert.skymap.url.endswith("bayestar.multiorder.fits,0")
    assert alert.classification == "BNS"
    assert alert.classification_probability == pytest.approx(0.95)
    assert dict(alert.class_probabilities) == {
        "BNS": 0.95,
        "NSBH": 0.01,
        "BBH": 0.03,
        "Terrestrial": 0.01,
    }
    assert alert.retracted is False


def test_lvk_retraction_voevent_is_retracted_under_the_same_event() -> None:
    text = (DATA / "lvk_preliminary.xml").read_text()
    retraction = text.replace('value="Preliminary"', 'value="Retraction"').replace(
        "-1-Preliminary", "-2-Retraction"
    )
    [alert] = parse_any(retraction.encode()).alerts
    assert alert.retracted is True
    assert alert.event_id == "lvk:MS240501ab"
    assert alert.key.endswith("-2-Retraction")


def test_citation_retraction_marks_retracted(fixtures: Path) -> None:
    text = (fixtures / "voevent" / "SWIFT_xrt_position_v1.1_example.xml").read_text()
    [alert] = parse_any(text.replace('cite="followup"', 'cite="retraction"').encode()).alerts
    assert alert.retracted is True


EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE voe:VOEvent [<!ENTITY leak SYSTEM "file:///etc/passwd">]>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://x/y#z" role="test">
  <What><Description>&leak;</Description></What>
</voe:VOEvent>"""


def _billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE VOEvent [' + "".join(entities) + "]>\n"
        '<VOEvent ivorn="ivo://x/y#z" role="test"><What><Description>&lol9;</Description>'
        "</What></VOEvent>"
    ).encode()


def test_external_entity_is_refused_and_nothing_is_read() -> None:
    with pytest.raises(AlertParseError, match="DOCTYPE") as caught:
        parse_any(EXTERNAL_ENTITY)
    assert "root:" not in str(caught.value)  # /etc/passwd never made it anywhere


def test_billion_laughs_is_refused_fast() -> None:
    started = time.monotonic()
    with pytest.raises(AlertParseError):
        parse_any(_billion_laughs())
    assert time.monotonic() - started < 1.0


def test_xml_that_is_not_a_voevent_or_not_well_formed() -> None:
    with pytest.raises(AlertParseError, match="not <VOEvent>"):
        parse_voevent(b"<html><body>503</body></html>")
    with pytest.raises(AlertParseError, match="not well formed"):
        parse_any(b"<voe:VOEvent ivorn='x'><Who>")
    with pytest.raises(AlertParseError, match="no ivorn"):
        parse_any(b"<VOEvent role='observation'/>")


def test_voevent_with_impossible_position_or_time(fixtures: Path) -> None:
    text = (fixtures / "voevent" / "SWIFT_bat_position_v2.0_example.xml").read_text()
    with pytest.raises(AlertParseError, match="dec = 95"):
        parse_any(text.replace("<C2>-9.313700</C2>", "<C2>95.0</C2>").encode())
    with pytest.raises(AlertParseError, match="before 1990"):
        parse_any(text.replace("2012-09-07T00:24:23.08", "1900-09-07T00:24:23.08").encode())
    with pytest.raises(AlertParseError, match="not a number"):
        parse_any(text.replace("<C1>74.741200</C1>", "<C1>NaN-ish</C1>").encode())
    with pytest.raises(AlertParseError, match="finite"):
        parse_any(text.replace("<C1>74.741200</C1>", "<C1>nan</C1>").encode())


AMON_ICECUBE = b"""<?xml version='1.0' encoding='UTF-8'?>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" version="2.0" role="observation"
 ivorn="ivo://nasa.gsfc.gcn/AMON#ICECUBE_BRONZE_Event2023-04-16T05:22:26.15_25_137840_057034692_1">
  <What>
    <Param name="AMON_ID" value="13784057034692"/>
    <Param name="run_id" value="137840" dataType="int"/>
    <Param name="event_id" value="57034692" dataType="int"/>
  </What>
  <WhereWhen><ObsDataLocation><ObservationLocation>
    <AstroCoords coord_system_id="UTC-FK5-GEO">
      <Time unit="s"><TimeInstant><ISOTime>2023-04-16T05:22:26.15</ISOTime></TimeInstant></Time>
      <Position2D unit="deg"><Value2><C1>345.8200</C1><C2>9.0100</C2></Value2>
        <Error2Radius>0.5000</Error2Radius></Position2D>
    </AstroCoords>
  </ObservationLocation></ObsDataLocation></WhereWhen>
</voe:VOEvent>"""


def test_amon_icecube_voevent_meets_the_gcn_json_notice_of_the_same_event(fixtures: Path) -> None:
    """Written in the shape of GCN's AMON IceCube VOEvents (run_id/event_id Params)."""
    [voevent] = parse_any(AMON_ICECUBE).alerts
    [notice] = parse_any(
        (fixtures / "gcn_json" / "icecube_gold_bronze_track.json").read_bytes()
    ).alerts
    assert voevent.event_id == notice.event_id == "icecube:137840_57034692"
