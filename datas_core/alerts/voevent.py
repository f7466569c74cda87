"""VOEvent 1.1/2.0 XML (GCN classic: Swift, Fermi, LVK, AMON, MOA...; Gaia; brokers).

Elements are found by local name, so `voe:VOEvent`, an unprefixed `VOEvent` and STC elements in
their own default namespace all read the same. Position from WhereWhen ... AstroCoords
Position2D (Value2 C1/C2, Error2Radius), time from its ISOTime, the rest from What/Param and
Group. The XML is parsed by `xml_safe` (no DOCTYPE, no entities, no network).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime, timezone

from lxml import etree

from datas_core.alerts import coerce, validate
from datas_core.alerts.errors import AlertParseError
from datas_core.alerts.model import (
    ROLES,
    Alert,
    Brightness,
    DetailValue,
    Link,
    ParseOutcome,
    Position,
    Role,
    SkyMap,
)
from datas_core.alerts.xml_safe import child, children, descendants, local_name, parse_xml, text_of

CONTENT_TYPE = "application/xml"
# Error2Radius containment where the publisher documents it (GCN: BAT/XRT 90%, GBM 68% stat).
CONTAINMENT_BY_STREAM = {"swift": 0.9, "fermi": 0.68}
_TRUE = ("true", "1", "yes")


@dataclass(frozen=True)
class _Param:
    group: str | None
    group_type: str | None
    name: str | None
    ucd: str
    value: str | None
    data_type: str | None

    @property
    def label(self) -> str:
        name = self.name or self.ucd or "param"
        return f"{self.group}.{name}" if self.group else name


def parse_voevent(data: bytes) -> ParseOutcome:
    """One VOEvent packet; `AlertParseError` when it is unreadable, unsafe or unbelievable."""
    root = parse_xml(data)
    if local_name(root) != "VOEvent":
        raise AlertParseError(f"XML root is <{local_name(root) or '?'}>, not <VOEvent>")
    ivorn = (root.get("ivorn") or "").strip()
    if not ivorn:
        raise AlertParseError("VOEvent has no ivorn (its natural key)")
    try:
        return ParseOutcome.of(_alert(root, ivorn, data))
    except AlertParseError as exc:
        raise exc.at(key=ivorn) from None


def _alert(root: etree._Element, ivorn: str, data: bytes) -> Alert:
    _authority, stream = _stream(ivorn)
    params = _params(child(root, "What"))
    by_name = {p.name.lower(): p for p in params if p.name}
    warnings_: list[str] = []

    alert_type = _value(by_name, "alerttype")
    classification, probability, classes = _classification(root, params, by_name)
    skymap = _skymap(params)
    return Alert(
        feed="voevent",
        key=ivorn,
        event_id=_event_id(ivorn, by_name, params),
        event_time=_event_time(root, warnings_),
        role=_role(root, by_name),
        name=_name(root, by_name, params),
        source=coerce.truncated(text_of(child(root, "How", "Description")), validate.MAX_NAME),
        alert_type=alert_type.lower() if alert_type else None,
        issued_at=_issued_at(root),
        position=_position(root, stream, warnings_),
        skymap=skymap,
        brightness=_brightness(params),
        classification=classification,
        classification_probability=probability,
        class_probabilities=classes,
        links=_links(root, params, skymap),
        retracted=_retracted(root, alert_type, by_name),
        description=coerce.truncated(_description(root), validate.MAX_DESCRIPTION),
        details=_details(params, warnings_),
        warnings=tuple(warnings_),
        raw=data,
        raw_content_type=CONTENT_TYPE,
    )


def _role(root: etree._Element, by_name: dict[str, _Param]) -> Role:
    if _is_true(by_name, "hardwareinj") or _is_true(by_name, "test_submission"):
        return "test"  # an injected signal or a test submission is not an observation
    text = (root.get("role") or "observation").strip().lower()
    for role in ROLES:
        if role == text:
            return role
    raise AlertParseError(f"VOEvent role {text!r} is not one of {', '.join(ROLES)}")


def _stream(ivorn: str) -> tuple[str, str]:
    """('nasa.gsfc.gcn', 'swift') from 'ivo://nasa.gsfc.gcn/SWIFT#BAT_GRB_Pos_532871-729'."""
    body = ivorn.split("://", 1)[-1].split("#", 1)[0]
    authority, _, stream = body.partition("/")
    return authority.lower(), stream.lower()


def _params(what: etree._Element | None) -> list[_Param]:
    if what is None:
        return []
    found: list[_Param] = []

    def add(element: etree._Element, group: etree._Element | None) -> None:
        value = element.get("value")
        if value is None:  # VOEvent 2.0 also allows <Value>text</Value>
            value = text_of(child(element, "Value"))
        found.append(
            _Param(
                group=(group.get("name") or group.get("type")) if group is not None else None,
                group_type=group.get("type") if group is not None else None,
                name=element.get("name"),
                ucd=element.get("ucd") or "",
                value=value.strip() if value is not None else None,
                data_type=element.get("dataType"),
            )
        )

    for element in what:
        if local_name(element) == "Param":
            add(element, None)
        elif local_name(element) == "Group":
            for param in children(element, "Param"):
                add(param, element)
    return found


def _value(by_name: dict[str, _Param], name: str) -> str | None:
    param = by_name.get(name)
    return param.value if param is not None and param.value else None


def _is_true(by_name: dict[str, _Param], name: str) -> bool:
    return (_value(by_name, name) or "").lower() in _TRUE


def _event_id(ivorn: str, by_name: dict[str, _Param], params: list[_Param]) -> str | None:
    """One id per event across notices: BAT, then XRT, then UVOT of one trigger share it."""
    authority, stream = _stream(ivorn)
    grace_id = _value(by_name, "graceid")
    if grace_id:
        return f"lvk:{grace_id}"
    run, event = _value(by_name, "run_id"), _value(by_name, "event_id")
    if run and event and "icecube" in ivorn.lower():
        return f"icecube:{run}_{event}"  # AMON's IceCube notices: the id of GCN's IceCube JSON
    trigger = _value(by_name, "trigid")
    if trigger and stream:
        return f"{stream}:{trigger}"
    meta_id = next((p.value for p in params if p.ucd == "meta.id" and p.value), None)
    if meta_id:
        namespace = "gaia" if "gaia" in authority else (stream or authority)
        return f"{namespace}:{meta_id}"
    return None


def _name(root: etree._Element, by_name: dict[str, _Param], params: list[_Param]) -> str | None:
    why = child(root, "Why")
    for inference in descendants(why, "Inference") if why is not None else []:
        name = text_of(child(inference, "Name"))
        if name:
            return coerce.truncated(name, validate.MAX_NAME)
    grace_id = _value(by_name, "graceid")
    if grace_id:
        return grace_id
    meta_id = next((p.value for p in params if p.ucd == "meta.id" and not p.name), None)
    return meta_id


def _event_time(root: etree._Element, warnings_: list[str]) -> datetime | None:
    coords = _astro_coords(root)
    iso = text_of(child(coords, "Time", "TimeInstant", "ISOTime")) if coords is not None else None
    if iso is None:
        return None
    when = coerce.iso_time(iso, "WhereWhen ISOTime")
    system = (coords.get("coord_system_id") or "").upper() if coords is not None else ""
    scale = system.split("-", 1)[0] if system else "UTC"
    if scale in ("TDB", "TT", "TAI", "TCB", "TCG", "GPS"):
        when = _to_utc(when, scale)
        if system.endswith("BARY"):
            # The light-travel term (up to ~8 min) needs the observatory; the event time is
            # for grouping and scheduling, not timing, so it is left out.
            warnings_.append(f"event time is barycentric {scale}; converted to UTC without it")
    return when


def _to_utc(when: datetime, scale: str) -> datetime:
    from astropy.time import Time

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ERFA "dubious year" outside the leap-second table
        if scale == "GPS":
            converted = Time(when.replace(tzinfo=None), scale="tai") + 19.0 / 86400.0
        else:
            converted = Time(when.replace(tzinfo=None), scale=scale.lower())
        utc = converted.utc.to_datetime()
    return utc.replace(tzinfo=timezone.utc)


def _issued_at(root: etree._Element) -> datetime | None:
    issued = text_of(child(root, "Who", "Date"))
    return coerce.iso_time(issued, "Who/Date") if issued else None


def _astro_coords(root: etree._Element) -> etree._Element | None:
    location = child(root, "WhereWhen", "ObsDataLocation", "ObservationLocation")
    return child(location, "AstroCoords")


def _position(root: etree._Element, stream: str, warnings_: list[str]) -> Position | None:
    coords = _astro_coords(root)
    position = child(coords, "Position2D")
    if coords is None or position is None:
        return None
    c1 = text_of(child(position, "Value2", "C1"))
    c2 = text_of(child(position, "Value2", "C2"))
    if c1 is None or c2 is None:
        return None
    system = (coords.get("coord_system_id") or "").upper()
    if system and not any(frame in system for frame in ("FK5", "ICRS", "FK4")):
        warnings_.append(f"position in {system} is not equatorial; not used")
        return None
    unit = (position.get("unit") or "deg").lower()
    scale = {"deg": 1.0, "rad": 57.29577951308232}.get(unit)
    if scale is None:
        raise AlertParseError(f"Position2D unit {unit!r} is not deg or rad")
    ra = coerce.number(c1, "Position2D C1 (RA)") * scale
    dec = coerce.number(c2, "Position2D C2 (Dec)") * scale
    radius_text = text_of(child(position, "Error2Radius"))
    radius = coerce.number(radius_text, "Error2Radius") * scale if radius_text else None
    containment = CONTAINMENT_BY_STREAM.get(stream) if radius else None
    return Position(ra, dec, radius, containment)


def _brightness(params: list[_Param]) -> Brightness | None:
    """The first magnitude with a value (Gaia's `alert-magnitude` group) and its error/band."""
    band = next((p.value for p in params if p.ucd == "instr.bandpass" and p.value), None)
    for p in params:
        if p.ucd.startswith("phot.mag") and "stat.error" not in p.ucd and p.value:
            err = next(
                (
                    e.value
                    for e in params
                    if e.group == p.group and "phot.mag;stat.error" in e.ucd and e.value
                ),
                None,
            )
            return Brightness(
                coerce.number(p.value, p.label),
                coerce.number(err, f"{p.label} error") if err else None,
                band,
            )
    return None


def _classification(
    root: etree._Element, params: list[_Param], by_name: dict[str, _Param]
) -> tuple[str | None, float | None, tuple[tuple[str, float], ...]]:
    """LVK's Classification group; Swift's GRB flags; else the Why element's words."""
    classes = tuple(
        (p.name, coerce.number(p.value, p.label))
        for p in params
        if p.name and p.value and (p.group_type or p.group or "").lower() == "classification"
    )
    if classes:
        best = max(classes, key=lambda item: item[1])
        return best[0], best[1], classes
    why = child(root, "Why")
    inference = child(why, "Inference")
    probability_text = inference.get("probability") if inference is not None else None
    probability = (
        coerce.number(probability_text, "Inference probability") if probability_text else None
    )
    if _is_true(by_name, "def_not_a_grb"):
        return "not GRB", None, ()
    if _is_true(by_name, "grb_identified"):
        return "GRB", probability, ()
    label = text_of(child(why, "Description"))
    concept = text_of(child(inference, "Concept"))
    if label is None and concept and " " in concept:
        label = concept  # words; a bare UCD ("process.variation.burst;em.gamma") is not a class
    label = coerce.truncated(label, validate.MAX_CLASSIFICATION)
    return label, probability if label else None, ()


def _skymap(params: list[_Param]) -> SkyMap | None:
    for p in params:
        name = (p.name or "").lower()
        if p.value and (name in ("skymap_fits", "healpix_url") or name.endswith("skymap_url")):
            return SkyMap(url=p.value)
    return None


def _links(root: etree._Element, params: list[_Param], skymap: SkyMap | None) -> tuple[Link, ...]:
    found: dict[str, str] = {}
    for reference in descendants(root, "Reference"):
        uri = (reference.get("uri") or "").strip()
        if uri.startswith(("http://", "https://")):
            found.setdefault(uri, "reference")
    for p in params:
        if p.value and p.value.startswith(("http://", "https://")) and " " not in p.value:
            found.setdefault(p.value, p.name or "url")
    if skymap is not None and skymap.url:
        found.pop(skymap.url, None)  # it has its own field
    return tuple(
        Link(label[:64], uri)
        for uri, label in list(found.items())[: validate.MAX_LINKS]
        if len(uri) <= validate.MAX_URL
    )


def _retracted(root: etree._Element, alert_type: str | None, by_name: dict[str, _Param]) -> bool:
    if (alert_type or "").lower() == "retraction" or _is_true(by_name, "retraction"):
        return True
    citations = child(root, "Citations")
    return citations is not None and any(
        (ref.get("cite") or "").lower() == "retraction" for ref in children(citations, "EventIVORN")
    )


def _description(root: etree._Element) -> str | None:
    for path in (("What", "Description"), ("Description",), ("Why", "Description")):
        found = text_of(child(root, *path))
        if found:
            return found
    return None


def _details(params: list[_Param], warnings_: list[str]) -> dict[str, DetailValue]:
    details: dict[str, DetailValue] = {}
    for p in params:
        if not p.value or len(p.value) > validate.MAX_DETAIL_TEXT:
            continue
        if len(details) >= validate.MAX_DETAILS:
            warnings_.append(f"more than {validate.MAX_DETAILS} Params; the rest are in raw only")
            break
        details[p.label[:100]] = _typed(p)
    return details


def _typed(p: _Param) -> DetailValue:
    kind = (p.data_type or "").lower()
    if kind in ("float", "double", "int", "long", "short") and p.value:
        try:
            number = coerce.number(p.value, p.label)
        except AlertParseError:
            return p.value
        return int(number) if kind in ("int", "long", "short") and number.is_integer() else number
    return p.value or ""
