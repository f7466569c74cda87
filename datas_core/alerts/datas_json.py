"""Today's simple JSON of `POST /api/v1/alerts` (`AlertIn`), one object or a list of them.

`AlertIn` keeps its own rules (pydantic, `Strict`); its ingest hints (match radius, priority,
target type) travel in `details` for the rules to cap.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from datas_core.alerts import coerce
from datas_core.alerts.errors import AlertParseError
from datas_core.alerts.model import Alert, Brightness, ParseOutcome, Position
from datas_core.schemas.alerts import AlertIn

CONTENT_TYPE = "application/json"


def is_datas_alert(doc: Any) -> bool:
    items = doc if isinstance(doc, list) else [doc]
    return bool(items) and all(isinstance(i, dict) and "alert_id" in i for i in items)


def parse_datas_json(data: bytes) -> ParseOutcome:
    doc = coerce.json_document(data)
    if isinstance(doc, dict):
        return ParseOutcome.of(datas_alert(doc, raw=data))
    if not isinstance(doc, list):
        raise AlertParseError("expected an alert object or a list of them")
    outcome = ParseOutcome([], [])
    for index, item in enumerate(doc):
        key = str(item.get("alert_id"))[:255] if isinstance(item, dict) else None
        try:
            outcome.alerts.append(datas_alert(item, raw=_dumps(item)))
        except AlertParseError as exc:
            outcome.errors.append(exc.at(index, key))
    return outcome


def datas_alert(doc: Any, *, raw: bytes) -> Alert:
    try:
        alert = AlertIn.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'alert'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise AlertParseError(f"not a valid DATAS alert: {problems}") from None
    return Alert(
        feed=alert.feed,
        key=alert.alert_id,
        event_id=f"{alert.feed}:{alert.name}" if alert.name else None,
        event_time=alert.observed_at,
        name=alert.name,
        source=alert.feed,
        position=Position(alert.ra_deg, alert.dec_deg),
        brightness=Brightness(alert.magnitude) if alert.magnitude is not None else None,
        classification=alert.classification,
        details={
            "match_radius_arcsec": alert.match_radius_arcsec,
            "priority": alert.priority,
            "target_type": alert.target_type,
        },
        raw=raw,
        raw_content_type=CONTENT_TYPE,
    )


def _dumps(item: Any) -> bytes:
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()
