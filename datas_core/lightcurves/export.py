"""Light curves as CSV text and as Parquet bytes (the materialized asset's format)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from datas_core import __version__
from datas_core.lightcurves.build import COLUMNS, LightCurve

FLAG_SEPARATOR = ";"
# A spreadsheet runs a cell starting with these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet shows as text: a leading apostrophe defuses a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, list):
        return spreadsheet_safe(FLAG_SEPARATOR.join(map(str, value)))
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return str(value)


def iso_utc(value: datetime) -> str:
    """The wire's time format: ISO 8601 in UTC with a 'Z' (as the JSON answers write it)."""
    return value.isoformat().replace("+00:00", "Z")


def to_csv(curve: LightCurve) -> str:
    """One header line (COLUMNS), one line per point; quality flags joined by ';'."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in curve.rows:
        writer.writerow([_cell(row[name]) for name in COLUMNS])
    return out.getvalue()


def to_parquet_bytes(curve: LightCurve) -> bytes:
    """A Parquet file of COLUMNS; the target and time system travel as schema metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    float_ = pa.float64()
    text = pa.string()
    types = {
        "observation_id": text,
        "bjd_tdb": float_,
        "jd_utc": float_,
        "observed_at": pa.timestamp("us", tz="UTC"),
        "exposure_sec": float_,
        "filter": text,
        "magnitude": float_,
        "mag_error": float_,
        "flux": float_,
        "flux_err": float_,
        "zero_point": float_,
        "airmass": float_,
        "site_id": text,
        "quality_flags": pa.list_(text),
        "flagged": pa.bool_(),
        "frame_id": text,
        "method": text,
        "pipeline_version": text,
        "reference_catalog": text,
    }
    schema = pa.schema([(name, types[name]) for name in COLUMNS]).with_metadata(
        {
            "datas": json.dumps(
                {
                    "target_id": curve.target_id,
                    "name": curve.name,
                    "ra_deg": curve.ra_deg,
                    "dec_deg": curve.dec_deg,
                    "time_system": "bjd_tdb: mid-exposure, barycentric, TDB; jd_utc: mid-exposure",
                    "software": f"DATAS {__version__}",
                }
            )
        }
    )
    columns = {name: [row[name] for row in curve.rows] for name in COLUMNS}
    table = pa.table(columns, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def storage_key(target_id: int) -> str:
    """Where a target's materialized light curve lives in the object store."""
    return f"lightcurves/{target_id}.parquet"
