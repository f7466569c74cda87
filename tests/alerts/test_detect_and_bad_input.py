"""Format detection, and bad input: always an AlertParseError with a reason, never a hang."""

from __future__ import annotations

import contextlib
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from datas_core.alerts import MAX_INPUT_BYTES, AlertParseError, detect_format, parse_any

from .conftest import DATA


def _all_payloads(fixtures: Path) -> list[Path]:
    real = [p for p in sorted(fixtures.rglob("*")) if p.is_file() and p.name != "README.md"]
    built = [p for p in sorted(DATA.iterdir()) if p.name != "README.md"]
    return real + built


def test_every_payload_is_detected_by_content_alone(fixtures: Path) -> None:
    expected = {".avro": "avro", ".xml": "xml", ".json": "json", ".csv": "csv"}
    for path in _all_payloads(fixtures):
        assert detect_format(path.read_bytes()) == expected[path.suffix], path.name


def test_content_wins_over_a_wrong_label(fixtures: Path) -> None:
    data = (fixtures / "voevent" / "Gaia16aac.xml").read_bytes()
    [alert] = parse_any(data, content_type="application/json", filename="x.avro").alerts
    assert alert.key == "ivo://gaia.cam.uk/alerts#Gaia16aac"


def test_label_picks_the_parser_when_content_is_unrecognizable() -> None:
    junk = random.Random(1).randbytes(2000)
    with pytest.raises(AlertParseError, match="unrecognized alert format"):
        parse_any(junk)
    with pytest.raises(AlertParseError, match="not an Avro object container"):
        parse_any(junk, content_type="avro/binary")
    with pytest.raises(AlertParseError, match="not an Avro object container"):
        parse_any(junk, filename="alert.avro")


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_refused(seed: int) -> None:
    junk = random.Random(seed).randbytes(5000)
    for data in (junk, b"Obj\x01" + junk, b"<" + junk, b"{" + junk, b"#Name,Date,RaDeg\n" + junk):
        with pytest.raises(AlertParseError):
            parse_any(data)


def test_empty_huge_and_non_bytes_payloads() -> None:
    with pytest.raises(AlertParseError, match="empty"):
        parse_any(b"  \n")
    with pytest.raises(AlertParseError, match="at most"):
        parse_any(b"{" + b" " * MAX_INPUT_BYTES + b"}")
    with pytest.raises(AlertParseError, match="must be bytes"):
        parse_any("a string")  # type: ignore[arg-type]


def _guano(fixtures: Path, **changes: Any) -> bytes:
    doc = json.loads((fixtures / "gcn_json" / "einstein_probe_wxt_alert.json").read_text())
    doc.update(changes)
    return json.dumps(doc, allow_nan=True).encode()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"dec": 95}, r"dec = 95 is outside \[-90, 90\]"),
        ({"ra": 360.5}, r"ra = 360.5 is outside \[0, 360\)"),
        ({"ra": -1}, r"ra = -1 is outside"),
        ({"ra_dec_error": float("nan")}, "NaN, which is not a JSON number"),
        ({"ra_dec_error": -0.5}, "error radius"),
        ({"trigger_time": "1900-01-01T00:00:00Z"}, "before 1990"),
        ({"trigger_time": "2999-01-01T00:00:00Z"}, "more than a day in the future"),
        ({"trigger_time": "yesterday"}, "not an ISO 8601 time"),
        ({"trigger_time": "2024-02-30T00:00:00Z"}, "not a valid date"),
        ({"classification": "x" * 10_000_000}, "10,000,000 characters long"),
        ({"classification": {"GRB": 1.5}}, r"probability = 1.5 is outside \[0, 1\]"),
        ({"ra": "120"}, "ra must be a number"),
        ({"dec": None}, "only one of ra and dec"),
    ],
)
def test_gcn_notice_with_absurd_fields_is_refused(
    fixtures: Path, changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(AlertParseError, match=reason) as caught:
        parse_any(_guano(fixtures, **changes))
    if "JSON" not in reason:  # refused before the notice is read: there is no key yet
        assert "gcn.notices.einstein_probe.wxt.alert" in str(caught.value)  # says which one


def test_json_that_is_not_an_alert() -> None:
    for data, reason in [
        (b"[1, 2, 3]", "unknown shape"),
        (b'{"hello": "world"}', "unknown shape"),
        (b'{"a": ', "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|not valid JSON"),
        (
            b'{"$schema": "https://gcn.nasa.gov/schema/v4/gcn/notices/x.json", "ra": Infinity}',
            "Infinity",
        ),
    ]:
        with pytest.raises(AlertParseError, match=reason):
            parse_any(data)


def test_csv_that_is_not_utf8_or_has_a_huge_cell() -> None:
    header = (DATA / "gaia_alerts.csv").read_bytes().splitlines()[0]
    with pytest.raises(AlertParseError, match="not UTF-8"):
        parse_any(header + b"\nGaia\xff\xfe,2016-01-01,1,2,3,,,,,\n")
    with pytest.raises(AlertParseError, match=r"cell longer than|field larger than"):
        parse_any(header + b"\nGaia99x,2016-01-01,1,2,3,,,," + b"x" * 200_000 + b",\n")


def test_mutated_payloads_never_raise_anything_else_and_never_hang(fixtures: Path) -> None:
    """Bit flips and cuts of every payload: an alert, or an AlertParseError — nothing else."""
    rng = random.Random(42)
    started = time.monotonic()
    for path in _all_payloads(fixtures):
        original = path.read_bytes()
        for _ in range(25):
            data = bytearray(original)
            for _flip in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if rng.random() < 0.3:
                data = data[: rng.randrange(1, len(data))]
            with contextlib.suppress(AlertParseError):
                parse_any(bytes(data))
    assert time.monotonic() - started < 60
