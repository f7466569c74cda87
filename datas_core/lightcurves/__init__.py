"""Light curves: points from the observations table, BJD_TDB times, CSV/AAVSO/Parquet exports,
per-site-and-night data quality, and the change cursor that keeps materialized curves fresh."""

from datas_core.lightcurves.aavso import to_aavso
from datas_core.lightcurves.bjd import bjd_tdb
from datas_core.lightcurves.build import COLUMNS, LightCurve, LightCurveQuery, load_light_curve
from datas_core.lightcurves.export import storage_key, to_csv, to_parquet_bytes

__all__ = [
    "COLUMNS",
    "LightCurve",
    "LightCurveQuery",
    "bjd_tdb",
    "load_light_curve",
    "storage_key",
    "to_aavso",
    "to_csv",
    "to_parquet_bytes",
]
