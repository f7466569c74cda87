"""Transient Name Server: the API's get/object JSON and the public daily CSV of all objects.

Natural key: objname + lastmodified, so a reclassification is a new alert and a replay is not.
When a source has no `lastmodified` (some API replies) a digest of the object stands in for it.
A search reply lists names only (objname, prefix, objid): `search_names` returns them for the
client to fetch each object with get/object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from datas_core.alerts import coerce, csv_table, validate
from datas_core.alerts.errors import AlertParseError
from datas_core.alerts.model import Alert, Brightness, DetailValue, Link, ParseOutcome, Position

JSON_TYPE = "application/json"
CSV_TYPE = "text/csv"
CSV_COLUMNS = ("objid", "name_prefix", "name", "ra", "declination")  # the documented header
OBJECT_URL = "https://www.wis-tns.org/object/{}"


def parse_tns_json(data: bytes) -> ParseOutcome:
    """A get/object reply (one object) or a list of full objects; one error per bad object."""
    doc = coerce.json_document(data)
    items = _reply_items(doc)
    if all(
        isinstance(i, Mapping) and i.get("radeg") is None and i.get("ra") is None for i in items
    ):
        raise AlertParseError(
            "TNS reply has no coordinates: a search reply lists names only (objname, prefix, "
            "objid); fetch each object with get/object"
        )
    if len(items) == 1:
        return ParseOutcome.of(tns_alert(items[0], raw=data, content_type=JSON_TYPE))
    outcome = ParseOutcome([], [])
    for index, item in enumerate(items):
        try:
            raw = _json_bytes(item)
            outcome.alerts.append(tns_alert(item, raw=raw, content_type=JSON_TYPE))
        except AlertParseError as exc:
            outcome.errors.append(exc.at(index, _objname(item)))
    return outcome


def search_names(data: bytes) -> list[str]:
    """Object names from a search reply (which carries no coordinates)."""
    doc = coerce.json_document(data)
    reply = _unwrap(doc)
    if not isinstance(reply, list):
        raise AlertParseError("TNS search reply: expected a list of objects in data")
    return [
        str(item["objname"]) for item in reply if isinstance(item, Mapping) and item.get("objname")
    ]


def is_tns_json(doc: Any) -> bool:
    if isinstance(doc, list):
        return bool(doc) and all(isinstance(item, dict) and "objname" in item for item in doc)
    if not isinstance(doc, dict):
        return False
    if "objname" in doc:
        return True
    data = doc.get("data")
    return "id_code" in doc or (
        isinstance(data, Mapping) and ("reply" in data or "objname" in data)
    )


def parse_tns_csv(data: bytes) -> ParseOutcome:
    """The public objects CSV: an optional date line, the header, one object per row."""
    text = csv_table.decode_text(data, "TNS CSV")
    lines = text.splitlines()[:5]
    start = next(
        (
            i
            for i, line in enumerate(lines)
            if set(CSV_COLUMNS) <= set(csv_table.header_cells(line))
        ),
        None,
    )
    if start is None:
        raise AlertParseError(
            "TNS CSV header (objid, name_prefix, name, ra, declination) not found"
        )
    outcome = ParseOutcome([], [])
    for index, (line, row, raw) in enumerate(csv_table.rows(text, start, "TNS CSV")):
        try:
            outcome.alerts.append(tns_alert(_csv_object(row), raw=raw, content_type=CSV_TYPE))
        except AlertParseError as exc:
            outcome.errors.append(exc.at(index, row.get("name") or f"line {line}"))
    return outcome


def tns_alert(obj: Any, *, raw: bytes, content_type: str) -> Alert:
    if not isinstance(obj, Mapping):
        raise AlertParseError("TNS object is not a JSON object")
    objname = _objname(obj)
    if not objname:
        raise AlertParseError("TNS object has no objname")
    if obj.get("radeg") is None and obj.get("ra") is None:
        raise AlertParseError(
            "TNS object has no coordinates: a search reply lists names only; "
            "fetch each object with get/object"
        )
    version = obj.get("lastmodified") or coerce.content_hash(dict(obj))
    key = f"{objname}:{version}"
    try:
        return _alert(obj, objname, key, raw, content_type)
    except AlertParseError as exc:
        raise exc.at(key=key) from None


def _alert(obj: Mapping[str, Any], objname: str, key: str, raw: bytes, content_type: str) -> Alert:
    ra = obj.get("radeg") if obj.get("radeg") is not None else obj.get("ra")
    dec = obj.get("decdeg") if obj.get("decdeg") is not None else obj.get("dec")
    prefix = coerce.first_text(obj.get("name_prefix") or obj.get("prefix"))
    mag = coerce.optional_number(obj.get("discoverymag"), "discoverymag")
    discovered = obj.get("discoverydate")
    modified = obj.get("lastmodified")
    classification = _name_of(obj.get("object_type"))
    details: dict[str, DetailValue] = {}
    for name in ("redshift", "host_redshift"):
        value = coerce.optional_number(obj.get(name), name)
        if value is not None:
            details[name] = value
    objid = coerce.optional_number(obj.get("objid"), "objid")
    if objid is not None and objid.is_integer():
        details["objid"] = int(objid)
    hostname = _name_of(obj.get("hostname"))
    if hostname:
        details["hostname"] = hostname[: validate.MAX_DETAIL_TEXT]
    for name in ("reporting_group", "discovery_data_source"):
        label = _name_of(obj.get(name), "group_name")
        if label:
            details[name] = label[: validate.MAX_DETAIL_TEXT]
    return Alert(
        feed="tns",
        key=key,
        event_id=f"tns:{objname}",
        event_time=coerce.iso_time(discovered, "discoverydate") if discovered else None,
        name=f"{prefix} {objname}" if prefix else objname,
        source="TNS",
        issued_at=coerce.iso_time(modified, "lastmodified") if modified else None,
        position=Position(
            coerce.sexagesimal(ra, "ra", hours=True),
            coerce.sexagesimal(dec, "dec", hours=False),
        ),
        brightness=Brightness(mag, None, _name_of(obj.get("discmagfilter")))
        if mag is not None
        else None,
        classification=classification,
        aliases=tuple(_internal_names(obj.get("internal_names"))),
        links=(Link("TNS", OBJECT_URL.format(objname)),),
        details=details,
        raw=raw,
        raw_content_type=content_type,
    )


def _reply_items(doc: Any) -> list[Any]:
    if isinstance(doc, Mapping) and "id_code" in doc:
        code = doc.get("id_code")
        if code not in (200, "200"):
            message = str(doc.get("id_message") or "")[:200]
            raise AlertParseError(f"TNS answered id_code {code}: {message}")
    reply = _unwrap(doc)
    items = reply if isinstance(reply, list) else [reply]
    if not items:
        raise AlertParseError("TNS reply holds no objects")
    return items


def _unwrap(doc: Any) -> Any:
    """{"data": {"reply": X}} (classic API), {"data": X} (newer) or X itself."""
    if isinstance(doc, Mapping) and "data" in doc and "objname" not in doc:
        doc = doc["data"]
        if isinstance(doc, Mapping) and "reply" in doc:
            doc = doc["reply"]
    return doc


def _csv_object(row: Mapping[str, Any]) -> dict[str, Any]:
    """A CSV row in the JSON reply's field names (CSV: name, declination, type, filter)."""
    return {
        "objname": row.get("name"),
        "name_prefix": row.get("name_prefix"),
        "ra": row.get("ra"),
        "dec": row.get("declination"),
        "discoverydate": row.get("discoverydate") or None,
        "discoverymag": row.get("discoverymag"),
        "discmagfilter": row.get("filter") or None,
        "object_type": row.get("type") or None,
        "redshift": row.get("redshift") or None,
        "objid": row.get("objid") or None,
        "reporting_group": row.get("reporting_group") or None,
        "internal_names": row.get("internal_names"),
        "lastmodified": row.get("lastmodified") or None,
    }


def _objname(obj: Any) -> str | None:
    if not isinstance(obj, Mapping):
        return None
    name = coerce.first_text(obj.get("objname"))
    return validate.text(name, "objname", 64) if name else None


def _name_of(value: Any, field: str = "name") -> str | None:
    """TNS writes some fields as {"id": 3, "name": "SN Ia"} and some as plain text."""
    if isinstance(value, Mapping):
        value = value.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return str(value).strip()


def _internal_names(value: Any) -> list[str]:
    if isinstance(value, list):
        names = [str(n) for n in value]
    elif isinstance(value, str):
        names = value.split(",")
    else:
        return []
    return list(dict.fromkeys(n.strip() for n in names if n.strip()))[: validate.MAX_ALIASES]


def _json_bytes(item: Any) -> bytes:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()
