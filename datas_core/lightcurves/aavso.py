"""The AAVSO Extended File Format (version 1.2), for submission through AAVSO WebObs.

Header: #TYPE=EXTENDED, #OBSCODE, #SOFTWARE, #DELIM, #DATE, #OBSTYPE. DATE is JD (UTC) of
mid-exposure, the spec's preferred choice (it accepts JD, HJD or EXCEL, not BJD). One line per
point with the fields NAME,DATE,MAG,MERR,FILT,TRANS,MTYPE,CNAME,CMAG,KNAME,KMAG,AMASS,GROUP,
CHART,NOTES; a missing value is "na". DATAS magnitudes are zero-point calibrated against a
reference catalog, not transformed: TRANS=NO, MTYPE=STD. Several comparison stars are reported
as CNAME=ENSEMBLE. Points with a flux but no magnitude cannot be expressed and are left out.
"""

from __future__ import annotations

from typing import Any

from datas_core import __version__
from datas_core.lightcurves.build import LightCurve

DELIM = ","
FIELDS = (
    "NAME",
    "DATE",
    "MAG",
    "MERR",
    "FILT",
    "TRANS",
    "MTYPE",
    "CNAME",
    "CMAG",
    "KNAME",
    "KMAG",
    "AMASS",
    "GROUP",
    "CHART",
    "NOTES",
)
NA = "na"

# FITS filter names as sites write them -> AAVSO filter codes. Unknown names pass through
# upper-cased (AAVSO will then ask); no filter at all is clear with V comparison magnitudes.
FILTER_CODES = {
    "U": "U",
    "B": "B",
    "V": "V",
    "R": "R",
    "RC": "R",
    "I": "I",
    "IC": "I",
    "J": "J",
    "H": "H",
    "K": "K",
    "u": "SU",
    "g": "SG",
    "r": "SR",
    "i": "SI",
    "z": "SZ",
    "SDSS_U": "SU",
    "SDSS_G": "SG",
    "SDSS_R": "SR",
    "SDSS_I": "SI",
    "SDSS_Z": "SZ",
    "CLEAR": "CV",
    "C": "CV",
    "L": "CV",
    "LUM": "CV",
    "TG": "TG",
    "TB": "TB",
    "TR": "TR",
    "HA": "HA",
}


def filter_code(name: str | None) -> str:
    if not name:
        return "CV"
    key = name.strip().rstrip("'")
    return FILTER_CODES.get(key) or FILTER_CODES.get(key.upper()) or key.upper()


def _text(value: Any, limit: int) -> str:
    """A field value without the delimiter, line breaks or '#', cut to AAVSO's length."""
    out = str(value).replace(DELIM, " ").replace("\n", " ").replace("\r", " ").replace("#", "")
    return out.strip()[:limit] or NA


def _star_name(star: Any) -> str | None:
    if isinstance(star, dict):
        for key in ("auid", "name", "label", "id"):
            if star.get(key) not in (None, ""):
                return str(star[key])
        return None
    return None if star in (None, "") else str(star)


def _comparison(stars: list[Any]) -> tuple[str, str]:
    """CNAME, CMAG: one named star (with its instrumental magnitude if known), else ENSEMBLE."""
    if len(stars) > 1:
        return "ENSEMBLE", NA
    if len(stars) == 1:
        name = _star_name(stars[0])
        if name:
            inst = stars[0].get("instrumental_mag") if isinstance(stars[0], dict) else None
            return _text(name, 20), (f"{float(inst):.3f}" if inst is not None else NA)
    return NA, NA


def _notes(row: dict[str, Any]) -> str:
    parts = [f"site={row['site_id']}", f"obs={row['observation_id']}"]
    if row.get("frame_id"):
        parts.append(f"frame={row['frame_id']}")
    if row.get("quality_flags"):
        parts.append("flags=" + "+".join(row["quality_flags"]))
    if row.get("reference_catalog"):
        parts.append(f"refcat={row['reference_catalog']}")
    return _text("|" + "|".join(parts), 1000)


def _line(name: str, row: dict[str, Any]) -> str:
    cname, cmag = _comparison(row.get("comparison_stars") or [])
    merr = row.get("mag_error")
    airmass = row.get("airmass")
    values = [
        name,
        f"{row['jd_utc']:.6f}",
        f"{row['magnitude']:.3f}",
        f"{merr:.3f}" if merr is not None else NA,
        filter_code(row.get("filter")),
        "NO",
        "STD",
        cname,
        cmag,
        NA,
        NA,
        f"{airmass:.3f}" if airmass is not None else NA,
        NA,
        NA,
        _notes(row),
    ]
    return DELIM.join(values)


def to_aavso(curve: LightCurve, obscode: str, obstype: str = "CCD") -> str:
    """The whole report as text (header, column comment, one line per point with a magnitude)."""
    name = _text(curve.name, 30)
    lines = [
        "#TYPE=EXTENDED",
        f"#OBSCODE={_text(obscode, 16)}",
        f"#SOFTWARE=DATAS {__version__} (light curve export)",
        f"#DELIM={DELIM}",
        "#DATE=JD",
        f"#OBSTYPE={obstype}",
        f"# DATE is the Julian date (UTC) of mid-exposure; target_id {curve.target_id}",
        "#" + DELIM.join(FIELDS),
    ]
    lines += [_line(name, row) for row in curve.rows if row.get("magnitude") is not None]
    return "\n".join(lines) + "\n"
