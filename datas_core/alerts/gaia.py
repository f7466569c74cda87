"""Gaia science alerts CSV (`#Name, Date, RaDeg, DecDeg, AlertMag, HistoricMag, HistoricStdDev,
Class, Published, Comment`): an archive import, since the feed ended in January 2025.

Natural key: the alert name (Gaia16aac); the event id `gaia:<name>` is the one the Gaia
VOEvents give, so both forms of one alert meet on the same event.
"""

from __future__ import annotations

from collections.abc import Mapping

from datas_core.alerts import coerce, csv_table, validate
from datas_core.alerts.errors import AlertParseError
from datas_core.alerts.model import Alert, Brightness, DetailValue, Link, ParseOutcome, Position

CONTENT_TYPE = "text/csv"
COLUMNS = ("name", "date", "radeg", "decdeg", "alertmag")
ALERT_URL = "http://gsaweb.ast.cam.ac.uk/alerts/alert/{}"  # as the Gaia VOEvents link it
BAND = "G"
NO_CLASS = ("", "unknown", "none")


def is_gaia_header(line: str) -> bool:
    return set(COLUMNS) <= set(csv_table.header_cells(line))


def parse_gaia_csv(data: bytes) -> ParseOutcome:
    text = csv_table.decode_text(data, "Gaia alerts CSV")
    start = next((i for i, line in enumerate(text.splitlines()[:5]) if is_gaia_header(line)), None)
    if start is None:
        raise AlertParseError(
            "Gaia alerts CSV header (#Name, Date, RaDeg, DecDeg, AlertMag, ...) not found"
        )
    outcome = ParseOutcome([], [])
    for index, (line, row, raw) in enumerate(csv_table.rows(text, start, "Gaia alerts CSV")):
        try:
            outcome.alerts.append(gaia_alert(row, raw))
        except AlertParseError as exc:
            outcome.errors.append(exc.at(index, row.get("name") or f"line {line}"))
    return outcome


def gaia_alert(row: Mapping[str, str], raw: bytes) -> Alert:
    name = validate.text(row.get("name", ""), "Name", 64).strip()
    try:
        mag = coerce.optional_number(row.get("alertmag"), "AlertMag")
        details: dict[str, DetailValue] = {}
        for column, label in (("historicmag", "HistoricMag"), ("historicstddev", "HistoricStdDev")):
            value = coerce.optional_number(row.get(column), label)
            if value is not None:
                details[label] = value
        label = (row.get("class") or "").strip()
        published = row.get("published")
        return Alert(
            feed="gaia",
            key=name,
            event_id=f"gaia:{name}",
            event_time=coerce.iso_time(row.get("date"), "Date"),
            name=name,
            source="Gaia Science Alerts",
            issued_at=coerce.iso_time(published, "Published") if published else None,
            position=Position(
                coerce.number(row.get("radeg"), "RaDeg"), coerce.number(row.get("decdeg"), "DecDeg")
            ),
            brightness=Brightness(mag, None, BAND) if mag is not None else None,
            classification=None if label.lower() in NO_CLASS else label,
            links=(Link("Gaia alerts", ALERT_URL.format(name)),),
            description=coerce.truncated(row.get("comment"), validate.MAX_DESCRIPTION),
            details=details,
            raw=raw,
            raw_content_type=CONTENT_TYPE,
        )
    except AlertParseError as exc:
        raise exc.at(key=name) from None
