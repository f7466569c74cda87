"""GCN Kafka JSON notices: the gcn-schema family (Swift, Einstein Probe, IceCube, SVOM, Fermi...);
LVK's `igwn.gwalert` (it has no gcn-schema core fields) is handed to `lvk`.

Notices are read by the gcn-schema core fields, not per mission: `id`/`event_name`,
`trigger_time`, `ra`/`dec`/`ra_dec_error`/`containment_probability`, `healpix_url`/
`healpix_file`, `classification`, `alert_type`/`alert_tense`, `record_number`. A notice may
have no position; `alert_type: retraction` marks it retracted under the same event id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from datas_core.alerts import coerce, validate
from datas_core.alerts.errors import AlertParseError
from datas_core.alerts.lvk import lvk_alert
from datas_core.alerts.model import (
    Alert,
    DetailValue,
    Link,
    ParseOutcome,
    Position,
    Role,
    SkyMap,
)
from datas_core.alerts.skymap import embedded_skymap

CONTENT_TYPE = "application/json"
DEFAULT_CONTAINMENT = 0.9  # gcn-schema Localization: "if absent, default is 0.9"
_VERSION = re.compile(r"^(v\d+(\.\d+)*|main|stable|latest)$", re.IGNORECASE)
_TEST_TENSES = ("test", "mock", "injection", "commanded")
_TEST_TYPES = ("test", "injected")
# Fields that are not details: the normalized ones, and bulky ones kept only in raw.
_NOT_DETAILS = {
    "$schema",
    "id",
    "event_name",
    "ra",
    "dec",
    "ra_dec_error",
    "containment_probability",
    "trigger_time",
    "alert_datetime",
    "alert_type",
    "classification",
    "healpix_file",
    "healpix_url",
    "additional_info",
}


def parse_gcn_json(data: bytes, *, topic: str | None = None) -> ParseOutcome:
    """One GCN JSON notice. `topic` (the Kafka topic) names notices that carry no `$schema`.

    The natural key comes from the payload (schema name + id + record number), never from the
    topic, so one notice has one key whether it came through Kafka or an upload.
    """
    doc = coerce.json_document(data)
    if not isinstance(doc, dict):
        raise AlertParseError("a GCN notice is a JSON object")
    if "superevent_id" in doc:
        return ParseOutcome.of(lvk_alert(doc, data))
    return ParseOutcome.of(gcn_notice(doc, data, topic=topic))


def is_gcn_notice(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    schema = doc.get("$schema")
    return "superevent_id" in doc or (isinstance(schema, str) and "/gcn/notices/" in schema)


def schema_name(schema: str) -> str:
    """The schema's path as a dotted name, its version dropped (a schema release must not change
    a notice's key): '.../schema/v6.1.0/gcn/notices/swift/bat/Guano.schema.json' ->
    'gcn.notices.swift.bat.guano'."""
    path = schema.split("://", 1)[-1].split("?", 1)[0]
    parts = [p for p in path.split("/")[1:] if p]  # drop the host
    if "gcn" in parts:
        parts = parts[parts.index("gcn") :]
    parts = [p for p in parts if not _VERSION.match(p) and p != "schema"]
    if parts:
        parts[-1] = re.sub(r"(\.schema)?\.json$", "", parts[-1])
    return ".".join(p.lower() for p in parts if p)


def gcn_notice(doc: Mapping[str, Any], data: bytes, *, topic: str | None = None) -> Alert:
    schema = doc.get("$schema")
    if isinstance(schema, str) and "/gcn/notices/" in schema:
        name = schema_name(schema)
    elif topic:
        name = validate.text(topic, "topic", 200)
    else:
        raise AlertParseError("JSON has no GCN '$schema' (.../gcn/notices/...) and no topic")
    mission = _mission(doc, name)
    trigger = coerce.first_text(doc.get("id"))
    names = coerce.all_texts(doc.get("event_name"))
    key = _notice_key(doc, name, trigger or (names[0] if names else None))
    try:
        return _notice(doc, data, name, mission, trigger, names, key)
    except AlertParseError as exc:
        raise exc.at(key=key) from None


def _notice(
    doc: Mapping[str, Any],
    data: bytes,
    name: str,
    mission: str,
    trigger: str | None,
    names: list[str],
    key: str,
) -> Alert:
    notes: list[str] = []
    alert_type = coerce.first_text(doc.get("alert_type"))
    time_text = doc.get("trigger_time") or doc.get("alert_datetime")
    classification, probability, classes = coerce.class_probabilities(doc.get("classification"))
    skymap = _skymap(doc, notes)
    event_id = f"{mission}:{trigger}" if trigger else (f"{mission}:{names[0]}" if names else None)
    instrument = coerce.first_text(doc.get("instrument"))
    links = _links(doc, skymap)
    return Alert(
        feed="gcn",
        key=key,
        event_id=event_id,
        event_time=coerce.iso_time(time_text, "trigger_time") if time_text else None,
        role=_role(doc),
        name=names[0] if names else None,
        source=" ".join(t for t in (coerce.first_text(doc.get("mission")), instrument) if t)
        or mission,
        alert_type=alert_type.lower() if alert_type else None,
        issued_at=_optional_time(doc.get("alert_datetime"), "alert_datetime"),
        position=_position(doc),
        skymap=skymap,
        classification=classification,
        classification_probability=probability,
        class_probabilities=classes,
        aliases=tuple(dict.fromkeys(names[1:] + coerce.all_texts(doc.get("id"))[1:])),
        links=links,
        retracted=(alert_type or "").lower() == "retraction",
        description=coerce.truncated(
            coerce.first_text(doc.get("additional_info")), validate.MAX_DESCRIPTION
        ),
        details={"schema": name, **_details(doc)},
        warnings=tuple(notes),
        raw=data,
        raw_content_type=CONTENT_TYPE,
    )


def _mission(doc: Mapping[str, Any], name: str) -> str:
    mission = coerce.first_text(doc.get("mission"))
    if mission:
        return re.sub(r"[^a-z0-9]+", "_", mission.lower()).strip("_")
    parts = name.split(".")
    if "notices" in parts and parts.index("notices") + 1 < len(parts):
        rest = parts[parts.index("notices") + 1 :]
        return rest[1] if rest[0] == "classic" and len(rest) > 1 else rest[0]
    return parts[-1] if parts else "gcn"


def _notice_key(doc: Mapping[str, Any], name: str, trigger: str | None) -> str:
    record = doc.get("record_number")
    if isinstance(record, int | str) and not isinstance(record, bool) and str(record).strip():
        version = f"record{str(record).strip()}"
    elif isinstance(doc.get("alert_datetime"), str):
        version = str(doc["alert_datetime"])
    else:
        version = coerce.content_hash(dict(doc))
    key = f"{name}:{trigger or coerce.content_hash(dict(doc))}:{version}"
    return key if len(key) <= validate.MAX_KEY else f"{name[:100]}:{coerce.content_hash(key)}"


def _position(doc: Mapping[str, Any]) -> Position | None:
    ra, dec = doc.get("ra"), doc.get("dec")
    if ra is None and dec is None:
        return None  # e.g. BAT-GUANO sub-threshold triggers: no localization yet
    if ra is None or dec is None:
        raise AlertParseError("notice has only one of ra and dec")
    error = doc.get("ra_dec_error")
    if error is None:
        error = doc.get("position_a_error")  # an ellipse: its semi-major axis, conservatively
    containment = doc.get("containment_probability")
    if error is not None and containment is None:
        containment = DEFAULT_CONTAINMENT
    return Position(
        validate.finite(ra, "ra"),
        validate.finite(dec, "dec"),
        validate.finite(error, "ra_dec_error") if error is not None else None,
        validate.finite(containment, "containment_probability") if error is not None else None,
    )


def _skymap(doc: Mapping[str, Any], notes: list[str]) -> SkyMap | None:
    url = doc.get("healpix_url")
    embedded = embedded_skymap(doc.get("healpix_file"), "healpix_file", notes)
    if embedded is not None:
        return SkyMap(
            url=url if isinstance(url, str) else None,
            data=embedded.data,
            ordering=embedded.ordering,
            pixels=embedded.pixels,
            max_order=embedded.max_order,
            nside=embedded.nside,
        )
    if isinstance(url, str) and url:
        return SkyMap(url=url)
    return None


def _links(doc: Mapping[str, Any], skymap: SkyMap | None) -> tuple[Link, ...]:
    found: dict[str, str] = {}
    for name, value in doc.items():
        if (
            isinstance(value, str)
            and value.startswith(("http://", "https://"))
            and name != "$schema"
            and len(value) <= validate.MAX_URL
            and not (skymap is not None and value == skymap.url)
        ):
            found.setdefault(value, name[:64])
    return tuple(Link(label, url) for url, label in found.items())


def _details(doc: Mapping[str, Any]) -> dict[str, DetailValue]:
    """Short scalar fields (far, p_astro, snr, energies...) for rules; the rest stays in raw."""
    details: dict[str, DetailValue] = {}
    for name, value in doc.items():
        if (
            name in _NOT_DETAILS
            or not coerce.is_scalar(value)
            or len(details) >= validate.MAX_DETAILS - 1
        ):
            continue
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            continue
        details[str(name)[:100]] = value
    return details


def _role(doc: Mapping[str, Any]) -> Role:
    tense = (coerce.first_text(doc.get("alert_tense")) or "").lower()
    kind = (coerce.first_text(doc.get("alert_type")) or "").lower()
    if tense in _TEST_TENSES or kind in _TEST_TYPES:
        return "test"
    if tense == "planned":
        return "utility"
    return "observation"


def _optional_time(value: Any, field: str) -> datetime | None:
    return coerce.iso_time(value, field) if isinstance(value, str) and value else None
