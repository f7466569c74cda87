"""LVK gravitational-wave alerts as GCN Kafka JSON (`igwn.gwalert`): superevent, alert type,
classification, properties and the embedded multi-order sky map (kept as bytes).

Key: superevent + alert type + time created (several UPDATEs of one superevent are distinct).
Mock (MS...) and test (TS...) superevents are `role="test"`; a RETRACTION has `event: null`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datas_core.alerts import coerce, validate
from datas_core.alerts.errors import AlertParseError
from datas_core.alerts.model import Alert, DetailValue, Link
from datas_core.alerts.skymap import embedded_skymap

CONTENT_TYPE = "application/json"


def lvk_alert(doc: Mapping[str, Any], data: bytes) -> Alert:
    """An LVK alert (igwn.gwalert JSON). Key: superevent + alert type + time created."""
    superevent = validate.text(doc.get("superevent_id"), "superevent_id", 64)
    alert_type = validate.text(doc.get("alert_type"), "alert_type", 64)
    created = validate.text(doc.get("time_created"), "time_created", 64)
    key = f"{superevent}:{alert_type}:{created}"
    try:
        return _lvk(doc, data, superevent, alert_type, created, key)
    except AlertParseError as exc:
        raise exc.at(key=key) from None


def _lvk(
    doc: Mapping[str, Any],
    data: bytes,
    superevent: str,
    alert_type: str,
    created: str,
    key: str,
) -> Alert:
    notes: list[str] = []
    event = coerce.mapping(doc.get("event"))  # null in a retraction
    coinc = coerce.mapping(doc.get("external_coinc"))
    classification, probability, classes = coerce.class_probabilities(event.get("classification"))
    # A GW+GRB coincidence carries a combined map: the better localization of the two.
    skymap = embedded_skymap(coinc.get("combined_skymap"), "external_coinc.combined_skymap", notes)
    skymap = skymap or embedded_skymap(event.get("skymap"), "event.skymap", notes)
    details: dict[str, DetailValue] = {}
    for name in ("far", "significant", "group", "pipeline", "search"):
        if coerce.is_scalar(event.get(name)):
            details[name] = event[name]
    properties = event.get("properties")
    if isinstance(properties, Mapping):
        details.update({str(k)[:100]: v for k, v in properties.items() if coerce.is_scalar(v)})
    instruments = event.get("instruments")
    if isinstance(instruments, list):
        details["instruments"] = ",".join(str(i) for i in instruments)[:200]
    for name in ("observatory", "search", "ivorn", "time_difference"):
        if coerce.is_scalar(coinc.get(name)):
            details[f"external_coinc.{name}"] = coinc[name]
    urls = coerce.mapping(doc.get("urls"))
    event_time = event.get("time")
    return Alert(
        feed="gcn",
        key=key,
        event_id=f"lvk:{superevent}",
        event_time=coerce.iso_time(event_time or created, "event.time"),
        role="test" if superevent[:1] in ("M", "T") else "observation",
        name=superevent,
        source="LVK",
        alert_type=alert_type.lower(),
        issued_at=coerce.iso_time(created, "time_created"),
        skymap=skymap,
        classification=classification,
        classification_probability=probability,
        class_probabilities=classes,
        links=tuple(
            Link(str(label)[:64], url)
            for label, url in urls.items()
            if isinstance(url, str) and url.startswith(("http://", "https://"))
        ),
        retracted=alert_type.upper() == "RETRACTION",
        details=details,
        warnings=tuple(notes),
        raw=data,
        raw_content_type=CONTENT_TYPE,
    )
