"""Target import from CSV: every bad row reported by line number; all-or-nothing unless asked."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from datas_core.errors import InvalidInput
from datas_core.schemas.targets import TargetCreate
from datas_core.services.targets import create_targets, duplicate_problems

LIST_COLUMNS = {"filters", "aliases"}
REQUIRED = ("name", "ra_deg", "dec_deg")
COLUMN_SYNONYMS = {"ra": "ra_deg", "dec": "dec_deg", "mag": "magnitude", "type": "target_type"}
ALLOWED = set(TargetCreate.model_fields) | set(COLUMN_SYNONYMS)


@dataclass
class RowError:
    line: int
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False


def parse_angle(text: str, *, hours: bool) -> float:
    """Degrees from '123.4' or sexagesimal 'HH:MM:SS.s' (RA, hours) / '+DD:MM:SS' (Dec)."""
    text = text.strip()
    if ":" not in text and " " not in text:
        return float(text)
    parts = text.replace(" ", ":").split(":")
    if len(parts) != 3:
        raise ValueError(f"{text!r} is not 'HH:MM:SS' / 'DD:MM:SS'")
    sign = -1.0 if parts[0].strip().startswith("-") else 1.0
    a, b, c = abs(float(parts[0])), float(parts[1]), float(parts[2])
    if not (0 <= b < 60 and 0 <= c < 60):
        raise ValueError(f"minutes and seconds in {text!r} must be in [0, 60)")
    value = sign * (a + b / 60.0 + c / 3600.0)
    return value * 15.0 if hours else value


def _row_to_target(row: dict[str, str]) -> TargetCreate:
    data: dict[str, Any] = {}
    for raw_key, raw_value in row.items():
        key = COLUMN_SYNONYMS.get(raw_key, raw_key)
        value = (raw_value or "").strip()
        if value == "":
            continue
        if key == "ra_deg":
            data[key] = parse_angle(value, hours=":" in value or " " in value)
        elif key == "dec_deg":
            data[key] = parse_angle(value, hours=False)
        elif key == "filters":
            data[key] = [f.strip() for f in value.split(";") if f.strip()]
        elif key == "aliases":
            data[key] = [{"alias": a.strip()} for a in value.split(";") if a.strip()]
        else:
            data[key] = value
    return TargetCreate.model_validate(data)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "row"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def parse_csv(text: str) -> tuple[list[tuple[int, TargetCreate]], list[RowError], int]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise InvalidInput("the CSV file is empty; it needs a header row: name,ra_deg,dec_deg,...")
    reader.fieldnames = header
    mapped = {COLUMN_SYNONYMS.get(h, h) for h in header}
    missing = [c for c in REQUIRED if c not in mapped]
    unknown = [h for h in header if h not in ALLOWED]
    if missing or unknown:
        msg = []
        if missing:
            msg.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            msg.append(f"unknown column(s): {', '.join(unknown)}")
        raise InvalidInput(
            "; ".join(msg) + f". Allowed columns: {', '.join(sorted(ALLOWED - {'aliases'}))}, "
            "aliases (';'-separated)"
        )
    good: list[tuple[int, TargetCreate]] = []
    errors: list[RowError] = []
    rows = 0
    for row in reader:
        rows += 1
        line = reader.line_num
        if None in row:
            errors.append(RowError(line, f"{len(row[None])} more value(s) than header columns"))
            continue
        try:
            good.append((line, _row_to_target(row)))
        except ValidationError as exc:
            errors.append(RowError(line, _describe(exc)))
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
    return good, errors, rows


def _without_duplicates(
    session: Session, good: list[tuple[int, TargetCreate]]
) -> tuple[list[tuple[int, TargetCreate]], list[RowError]]:
    lines = [line for line, _ in good]
    problems = duplicate_problems(session, [t for _, t in good], [f"line {n}" for n in lines])
    kept = [row for index, row in enumerate(good) if index not in problems]
    return kept, [RowError(lines[index], message) for index, message in problems.items()]


def import_targets_csv(
    session: Session,
    text: str,
    *,
    skip_bad_rows: bool = False,
    progress: Callable[[int], None] | None = None,
    chunk: int = 500,
) -> ImportReport:
    """Validate the whole file first; then insert all rows, or only the good ones if asked.

    Without `skip_bad_rows`, a single bad row means nothing is imported (report.applied False).
    """
    good, errors, rows = parse_csv(text)
    good, dup_errors = _without_duplicates(session, good)
    errors = sorted(errors + dup_errors, key=lambda e: e.line)
    report = ImportReport(rows=rows, errors=errors)
    if errors and not skip_bad_rows:
        return report
    for batch in _chunks([t for _, t in good], chunk):
        create_targets(session, batch)
        report.imported += len(batch)
        if progress:
            progress(len(batch))
    report.applied = True
    return report


def _chunks(items: list[TargetCreate], size: int) -> Iterable[list[TargetCreate]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
