"""ZTF alert packets (Avro object containers), as ZTF and the brokers (Fink...) publish them.

Fields are read by presence, never by `schemavsn`: 3.2 to 4.x and broker-enriched variants
(Fink adds `cdsxmatch`, `topic`, classifier scores) all go through the same code. A container
may hold many alerts; one that fails is reported on its own and the others are kept.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Mapping
from typing import Any

import fastavro

from datas_core.alerts import coerce, validate
from datas_core.alerts.errors import AlertParseError
from datas_core.alerts.model import (
    Alert,
    Brightness,
    DetailValue,
    Link,
    ParseOutcome,
    PhotometryPoint,
    Position,
)

AVRO_MAGIC = b"Obj\x01"
CONTENT_TYPE = "application/avro"
BANDS = {1: "ztfg", 2: "ztfr", 3: "ztfi"}  # ZTF `fid`
SSO_MATCH_ARCSEC = 5.0  # a known asteroid this close is the source (ZTF searches 30")
NO_VALUE = (-999.0, -99999.0)  # ZTF's "no value" sentinels
# Fields only broker-enriched packets carry (publisher is not always rewritten).
FINK_FIELDS = ("cdsxmatch", "rf_snia_vs_nonia", "snn_snia_vs_nonia", "roid", "mulens", "finkclass")
FINK_ROID_KNOWN_SSO = 3  # Fink's asteroid flag: 3 = matches a known solar-system object
# Forced photometry (ZTF 4.x `fp_hists`): detection at SNR >= 3, else a 5-sigma limit.
FP_SNR_DETECTION = 3.0
FP_SNR_LIMIT = 5.0
DETAIL_FIELDS = (
    "ndethist",
    "ncovhist",
    "programid",
    "field",
    "rcid",
    "sgscore1",
    "distpsnr1",
    "srmag1",
    "distnr",
    "magnr",
    "ssdistnr",
    "ssmagnr",
    "fwhm",
    "diffmaglim",
)


def parse_ztf_avro(data: bytes, *, feed: str | None = None) -> ParseOutcome:
    """Every alert in one Avro container. `feed` overrides the guess (ztf, or fink when enriched).

    Raises `AlertParseError` when the container header cannot be read; an alert that fails, or a
    container cut short after some alerts, becomes an entry in `errors`.
    """
    if not data.startswith(AVRO_MAGIC):
        raise AlertParseError("not an Avro object container (no 'Obj\\x01' magic at the start)")
    try:
        reader = fastavro.reader(io.BytesIO(data))
        codec = reader.codec
        schema = reader.writer_schema
    except Exception as exc:  # fastavro raises many types for a bad header
        raise AlertParseError(f"Avro container header is unreadable: {_short(exc)}") from None
    if codec != "null":
        # Compressed blocks could inflate without bound; every ZTF/broker stream sends "null".
        raise AlertParseError(f"Avro codec {codec!r} is not accepted; send uncompressed (null)")

    records: list[Any] = []
    errors: list[AlertParseError] = []
    try:
        for record in reader:
            records.append(record)
    except Exception as exc:
        errors.append(
            AlertParseError(
                f"Avro container is truncated or corrupt after {len(records)} alert(s): "
                f"{_short(exc)}",
                index=len(records),
            )
        )
    if not records and errors:
        raise errors[0]

    if len(records) > 1 or errors:
        schema = fastavro.parse_schema(schema)  # once, not per re-encoded alert
    alerts: list[Alert] = []
    for index, record in enumerate(records):
        try:
            raw = (
                data
                if len(records) == 1 and not errors
                else _single_container(schema, record, data, index)
            )
            alerts.append(ztf_alert(record, raw=raw, feed=feed))
        except AlertParseError as exc:
            errors.append(exc.at(index, _key_of(record)))
    return ParseOutcome(alerts, errors)


def ztf_alert(record: Any, *, raw: bytes, feed: str | None = None) -> Alert:
    """One decoded ZTF alert record (a dict) as an `Alert`."""
    if not isinstance(record, Mapping):
        raise AlertParseError("Avro record is not a ZTF alert (not a record)")
    cand = record.get("candidate")
    if not isinstance(cand, Mapping):
        raise AlertParseError("not a ZTF alert: no 'candidate' record")
    candid = record.get("candid", cand.get("candid"))
    object_id = record.get("objectId")
    if candid is None or not object_id:
        raise AlertParseError("ZTF alert without 'candid' or 'objectId'")
    object_id = validate.text(object_id, "objectId", validate.MAX_NAME)
    enriched = record.get("publisher") == "Fink" or any(f in record for f in FINK_FIELDS)
    feed = feed or ("fink" if enriched else "ztf")

    warnings: list[str] = []
    sso_distance = coerce.optional_number(cand.get("ssdistnr"), "ssdistnr", sentinels=NO_VALUE)
    sso_mag = coerce.optional_number(cand.get("ssmagnr"), "ssmagnr", sentinels=NO_VALUE)
    known_sso = (sso_distance is not None and 0.0 <= sso_distance <= SSO_MATCH_ARCSEC) or (
        sso_distance is None and sso_mag is not None
    )
    if record.get("roid") == FINK_ROID_KNOWN_SSO:
        known_sso = True
    sso_name = cand.get("ssnamenr")
    sso_name = sso_name if isinstance(sso_name, str) and sso_name.lower() != "null" else None

    history = _history(record.get("prv_candidates"), warnings, forced=False)
    history += _history(record.get("fp_hists"), warnings, forced=True)
    classification, class_probabilities = _broker_classes(record)
    return Alert(
        feed=feed,
        key=str(candid),
        event_id=f"ztf:{object_id}",
        event_time=coerce.jd_time(cand.get("jd"), "candidate.jd"),
        name=object_id,
        source=f"ZTF via {record.get('publisher') or feed}",
        position=Position(
            coerce.number(cand.get("ra"), "candidate.ra"),
            coerce.number(cand.get("dec"), "candidate.dec"),
        ),
        brightness=_brightness(cand),
        classification=classification,
        class_probabilities=class_probabilities,
        links=(_link(feed, object_id),),
        history=tuple(history),
        negative_subtraction=_negative(cand.get("isdiffpos")),
        solar_system_object=known_sso,
        solar_system_name=sso_name,
        real_bogus=_real_bogus(cand),
        details=_details(record, cand),
        warnings=tuple(warnings[: validate.MAX_WARNINGS]),
        raw=raw,
        raw_content_type=CONTENT_TYPE,
    )


def _brightness(cand: Mapping[str, Any]) -> Brightness | None:
    mag = coerce.optional_number(cand.get("magpsf"), "candidate.magpsf")
    if mag is None:
        return None
    err = coerce.optional_number(cand.get("sigmapsf"), "candidate.sigmapsf")
    return Brightness(mag, err, _band(cand.get("fid")))


def _history(points: Any, warnings: list[str], *, forced: bool) -> list[PhotometryPoint]:
    """Previous detections and non-detections; a bad point is skipped with a warning."""
    if not isinstance(points, list):
        return []
    kept: list[PhotometryPoint] = []
    for i, point in enumerate(points):
        try:
            made = _forced_point(point) if forced else _previous_point(point)
        except AlertParseError as exc:
            warnings.append(f"{'fp_hists' if forced else 'prv_candidates'}[{i}] skipped: {exc}")
            continue
        if made is not None:
            kept.append(made)
    return kept


def _previous_point(p: Any) -> PhotometryPoint | None:
    if not isinstance(p, Mapping):
        raise AlertParseError("not a record")
    time = coerce.jd_time(p.get("jd"), "jd")
    band = _band(p.get("fid"))
    mag = coerce.optional_number(p.get("magpsf"), "magpsf", sentinels=NO_VALUE)
    if p.get("candid") is not None and mag is not None:
        err = coerce.optional_number(p.get("sigmapsf"), "sigmapsf", sentinels=NO_VALUE)
        return PhotometryPoint(
            time, band, mag=mag, mag_err=err, negative=_negative(p.get("isdiffpos"))
        )
    limit = coerce.optional_number(p.get("diffmaglim"), "diffmaglim", sentinels=NO_VALUE)
    if limit is None:
        return None  # neither a detection nor a usable limit (e.g. a bad subtraction)
    return PhotometryPoint(time, band, limit_mag=limit)


def _forced_point(p: Any) -> PhotometryPoint | None:
    if not isinstance(p, Mapping):
        raise AlertParseError("not a record")
    if str(p.get("procstatus", "0")).strip() not in ("0", "None"):
        return None  # ZTF flags a failed forced measurement with a non-zero status
    flux = coerce.optional_number(p.get("forcediffimflux"), "forcediffimflux", sentinels=NO_VALUE)
    unc = coerce.optional_number(
        p.get("forcediffimfluxunc"), "forcediffimfluxunc", sentinels=NO_VALUE
    )
    zp = coerce.optional_number(p.get("magzpsci"), "magzpsci", sentinels=NO_VALUE)
    if flux is None or unc is None or zp is None or unc <= 0:
        return None
    time = coerce.jd_time(p.get("jd"), "jd")
    band = _band(p.get("fid"))
    snr = flux / unc
    if snr >= FP_SNR_DETECTION:
        mag = zp - 2.5 * math.log10(flux)
        return PhotometryPoint(time, band, mag=mag, mag_err=1.0857 / snr, forced=True)
    return PhotometryPoint(
        time, band, limit_mag=zp - 2.5 * math.log10(FP_SNR_LIMIT * unc), forced=True
    )


def _broker_classes(record: Mapping[str, Any]) -> tuple[str | None, tuple[tuple[str, float], ...]]:
    """Fink's cross-match class and its classifier scores (`*_vs_*` in [0, 1])."""
    label = record.get("finkclass") or record.get("cdsxmatch")
    classification = (
        label if isinstance(label, str) and label not in ("Unknown", "Fail", "") else None
    )
    scores = []
    for name, value in record.items():
        if "_vs_" in name and isinstance(value, float) and 0.0 <= value <= 1.0:
            scores.append((name, value))
    return classification, tuple(sorted(scores))


def _details(record: Mapping[str, Any], cand: Mapping[str, Any]) -> dict[str, DetailValue]:
    details: dict[str, DetailValue] = {}
    for name in DETAIL_FIELDS:
        value = cand.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if value not in NO_VALUE and math.isfinite(value):
            details[name] = value
    for name in ("schemavsn", "publisher", "topic"):
        value = record.get(name)
        if isinstance(value, str) and len(value) <= validate.MAX_DETAIL_TEXT:
            details[name] = value
    return details


def _real_bogus(cand: Mapping[str, Any]) -> float | None:
    """The deep-learning score (drb, schema 3.3+) when present, else the older rb."""
    for name in ("drb", "rb"):
        score = coerce.optional_number(cand.get(name), f"candidate.{name}", sentinels=NO_VALUE)
        if score is not None:
            return score
    return None


def _negative(isdiffpos: Any) -> bool:
    return str(isdiffpos).strip().lower() in ("f", "0", "false")


def _band(fid: Any) -> str:
    if isinstance(fid, int) and fid in BANDS:
        return BANDS[fid]
    return f"ztf-fid{fid}"


def _link(feed: str, object_id: str) -> Link:
    if feed == "fink":
        return Link("Fink", f"https://fink-portal.org/{object_id}")
    return Link("ALeRCE", f"https://alerce.online/object/{object_id}")


def _key_of(record: Any) -> str | None:
    if isinstance(record, Mapping):
        candid = record.get("candid")
        return None if candid is None else str(candid)
    return None


def _single_container(schema: Any, record: Any, container: bytes, index: int) -> bytes:
    """One alert of a multi-alert container as its own container with the same schema.

    The sync marker is derived from the input, not random, so parsing twice gives equal bytes.
    """
    marker = hashlib.sha256(container[:4096] + index.to_bytes(8, "big")).digest()[:16]
    buffer = io.BytesIO()
    try:
        fastavro.writer(buffer, schema, [record], codec="null", sync_marker=marker)
    except Exception as exc:
        raise AlertParseError(f"could not re-encode the alert on its own: {_short(exc)}") from None
    return buffer.getvalue()


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 200 else text[:197] + "..."
