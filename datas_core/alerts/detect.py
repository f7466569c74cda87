"""`parse_any`: one entry point for every supported alert format, detected from the content.

Content decides (Avro magic, XML root, JSON keys, CSV header); the content type and file name
only choose the parser when the content itself is not recognizable, so a mislabelled upload still
parses and an unrecognizable one gets the specific parser's reason.

Contract: returns `ParseOutcome(alerts, errors)`. An input that cannot be read at all, or a
single-alert input (one VOEvent, one GCN notice) that fails, raises `AlertParseError`; in a
container (Avro with many alerts, CSV, JSON list) each failed alert is one entry of `errors`
and the others are returned. No other exception type escapes.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from datas_core.alerts import coerce, csv_table
from datas_core.alerts.datas_json import is_datas_alert, parse_datas_json
from datas_core.alerts.errors import AlertParseError
from datas_core.alerts.gaia import is_gaia_header, parse_gaia_csv
from datas_core.alerts.gcn_json import is_gcn_notice, parse_gcn_json
from datas_core.alerts.model import ParseOutcome
from datas_core.alerts.tns import CSV_COLUMNS, is_tns_json, parse_tns_csv, parse_tns_json
from datas_core.alerts.voevent import parse_voevent
from datas_core.alerts.ztf_avro import AVRO_MAGIC, parse_ztf_avro

MAX_INPUT_BYTES = 64 * 1024 * 1024  # a ZTF alert is ~100 kB, an LVK notice with map < 1 MB

_AVRO_TYPES = ("avro", "application/vnd.apache.avro")
_XML_TYPES = ("xml", "voevent")
_JSON_TYPES = ("json",)
_CSV_TYPES = ("csv",)


def parse_any(
    data: bytes,
    content_type: str | None = None,
    filename: str | None = None,
    *,
    topic: str | None = None,
    feed: str | None = None,
) -> ParseOutcome:
    """Alerts from one payload of any supported format.

    `topic` is the Kafka topic a GCN notice came from (used only for notices without a
    `$schema`); `feed` overrides the feed guessed for ZTF Avro (e.g. "fink", "lasair").
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise AlertParseError(f"alert payload must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data.strip():
        raise AlertParseError("the payload is empty")
    if len(data) > MAX_INPUT_BYTES:
        raise AlertParseError(
            f"the payload is {len(data):,} bytes; at most {MAX_INPUT_BYTES:,} are accepted"
        )
    try:
        return _dispatch(data, _kind(data, content_type, filename), topic=topic, feed=feed)
    except AlertParseError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise AlertParseError(
            f"the payload is too complex to read ({type(exc).__name__})"
        ) from None
    except Exception as exc:  # a parser bug must still be a rejection with a reason
        raise AlertParseError(
            f"could not parse the payload ({type(exc).__name__}: {exc})"
        ) from None


def detect_format(data: bytes, content_type: str | None = None, filename: str | None = None) -> str:
    """'avro', 'xml', 'json', 'csv' (or raises): what `parse_any` will use for this payload."""
    return _kind(data, content_type, filename)


def _kind(data: bytes, content_type: str | None, filename: str | None) -> str:
    sniffed = _sniff(data)
    if sniffed:
        return sniffed
    hinted = _hint(content_type, filename)
    if hinted:
        return hinted
    start = data[:40]
    raise AlertParseError(
        "unrecognized alert format: not an Avro container ('Obj\\x01'), XML, JSON, or a TNS/Gaia "
        f"CSV header (payload starts with {start!r})"
    )


def _sniff(data: bytes) -> str | None:
    if data.startswith(AVRO_MAGIC):
        return "avro"
    head = data[:4096].decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        return "xml"
    if head.startswith(("{", "[")):
        return "json"
    first_lines = head.splitlines()[:5]
    if any(is_gaia_header(line) or _is_tns_header(line) for line in first_lines):
        return "csv"
    return None


def _hint(content_type: str | None, filename: str | None) -> str | None:
    label = (content_type or "").lower()
    suffix = PurePath(filename).suffix.lower().lstrip(".") if filename else ""
    for kind, types in (
        ("avro", _AVRO_TYPES),
        ("xml", _XML_TYPES),
        ("json", _JSON_TYPES),
        ("csv", _CSV_TYPES),
    ):
        if any(t in label for t in types) or suffix == kind:
            return kind
    return None


def _dispatch(data: bytes, kind: str, *, topic: str | None, feed: str | None) -> ParseOutcome:
    if kind == "avro":
        return parse_ztf_avro(data, feed=feed)
    if kind == "xml":
        return parse_voevent(data)
    if kind == "csv":
        text = csv_table.decode_text(data, "CSV")
        if any(is_gaia_header(line) for line in text.splitlines()[:5]):
            return parse_gaia_csv(data)
        return parse_tns_csv(data)
    return _dispatch_json(data, coerce.json_document(data), topic=topic)


def _dispatch_json(data: bytes, doc: Any, *, topic: str | None) -> ParseOutcome:
    if is_gcn_notice(doc) or (topic and isinstance(doc, dict) and not is_datas_alert(doc)):
        return parse_gcn_json(data, topic=topic)
    if is_datas_alert(doc):
        return parse_datas_json(data)
    if is_tns_json(doc):
        return parse_tns_json(data)
    keys = ", ".join(list(doc)[:8]) if isinstance(doc, dict) else type(doc).__name__
    raise AlertParseError(
        "JSON of unknown shape: expected a GCN notice ($schema .../gcn/notices/...), an LVK "
        "alert (superevent_id), a TNS reply (data.reply / objname) or a DATAS alert (feed, "
        f"alert_id); got {keys[:200]}"
    )


def _is_tns_header(line: str) -> bool:
    return set(CSV_COLUMNS) <= set(csv_table.header_cells(line))
