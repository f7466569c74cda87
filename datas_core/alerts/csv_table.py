"""CSV archives (TNS public objects, Gaia alerts): rows as dicts, each with its own raw slice."""

from __future__ import annotations

import csv
import io

from datas_core.alerts.errors import AlertParseError

MAX_FIELD = 100_000  # characters in one cell; csv's own default limit, stated here


def decode_text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AlertParseError(f"{what} is not UTF-8 text: {exc}") from None


def header_cells(line: str) -> list[str]:
    """'#Name, Date,...' or '"objid","name",...' -> ['name', 'date', ...] (case folded)."""
    cells = next(csv.reader([line], skipinitialspace=True), [])
    return [c.strip().lstrip("#").strip().lower() for c in cells]


def rows(text: str, header_at: int, what: str) -> list[tuple[int, dict[str, str], bytes]]:
    """(line number, row by lower-case column, header + that row as CSV bytes) for each row.

    The raw slice is re-written with the same columns, so each alert keeps a self-contained
    record even when a cell spans lines.
    """
    lines = text.splitlines(keepends=True)
    columns = header_cells(lines[header_at])
    reader = csv.reader(io.StringIO("".join(lines[header_at + 1 :])), skipinitialspace=True)
    found: list[tuple[int, dict[str, str], bytes]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if any(len(c) > MAX_FIELD for c in cells):
                raise AlertParseError(f"{what} has a cell longer than {MAX_FIELD:,} characters")
            row = {
                name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(columns)
            }
            buffer = io.StringIO()
            buffer.write(
                lines[header_at] if lines[header_at].endswith("\n") else lines[header_at] + "\n"
            )
            csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").writerow(cells)
            found.append((header_at + 1 + reader.line_num, row, buffer.getvalue().encode()))
    except csv.Error as exc:
        raise AlertParseError(
            f"{what} is malformed near line {header_at + 1 + reader.line_num}: {exc}"
        ) from None
    return found
