"""Astrometry: check a header WCS against a reference catalog and refit it, or solve the field
with astrometry.net's `solve-field` when the header has none or it is wrong.

The refit is a linear TAN model (CD matrix + reference pixel) fitted to matched stars by least
squares; the RMS of the residuals is reported in arcseconds.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from datas_core.science import tan
from datas_core.sky.vectors import angular_separation_deg

Array = NDArray[np.float64]
MIN_MATCHES = 6


class AstrometryFailed(Exception):
    """No WCS could be established; the message says why."""


@dataclass
class Astrometry:
    wcs: dict[str, Any]
    rms_arcsec: float
    n_matches: int
    method: str  # header, header+refit, solve-field
    correction_arcsec: float  # how far the header WCS was off at the frame centre

    def as_dict(self) -> dict[str, Any]:
        return {
            "header": self.wcs,
            "rms_arcsec": round(self.rms_arcsec, 4),
            "n_matches": self.n_matches,
            "method": self.method,
            "correction_arcsec": round(self.correction_arcsec, 2),
            "pixel_scale_arcsec": round(tan.pixel_scale_arcsec(self.wcs), 5),
        }


def header_wcs(cards: dict[str, Any]) -> dict[str, Any] | None:
    """The header's celestial WCS as a linear TAN model (CD matrix), or None."""
    if not str(cards.get("CTYPE1", "")).startswith("RA--"):
        return None
    from astropy.wcs import WCS, FITSFixedWarning

    keep = {
        k: v
        for k, v in cards.items()
        if k[:5] in ("CTYPE", "CRVAL", "CRPIX", "CDELT", "CUNIT")
        or k[:2] in ("CD", "PC")
        or k in ("CROTA2", "NAXIS", "NAXIS1", "NAXIS2", "EQUINOX")
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            w = WCS(keep, naxis=2)
        cd = w.pixel_scale_matrix
        crval = tuple(float(v) for v in w.wcs.crval)
        crpix = tuple(float(v) for v in w.wcs.crpix)
    except Exception:  # a malformed WCS is the same as none: it will be solved
        return None
    if not np.all(np.isfinite(cd)) or abs(np.linalg.det(cd)) == 0:
        return None
    return tan.tan_header((crval[0], crval[1]), (crpix[0], crpix[1]), np.asarray(cd))


def match_nearest(
    x1: Array, y1: Array, x2: Array, y2: Array, radius: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Pairs (i, j) of each point of set 1 with its nearest point of set 2 within radius
    (pixels); a point of set 2 goes to its closest claimant only."""
    from scipy.spatial import cKDTree

    if not len(x1) or not len(x2):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    distance, j = cKDTree(np.column_stack([x2, y2])).query(
        np.column_stack([x1, y1]), k=1, distance_upper_bound=radius
    )
    i = np.flatnonzero(np.isfinite(distance))
    order = i[np.argsort(distance[i], kind="stable")]
    _, first = np.unique(j[order], return_index=True)
    keep = np.sort(order[first])
    return keep.astype(np.intp), j[keep].astype(np.intp)


def find_offset(
    sx: Array, sy: Array, cx: Array, cy: Array, max_shift: float
) -> tuple[float, float]:
    """The shift (catalog minus source, pixels) that lines up most pairs: a vote over all pair
    differences of the brightest stars, in 2-pixel bins, refined by the median."""
    dx = (cx[None, :] - sx[:, None]).ravel()
    dy = (cy[None, :] - sy[:, None]).ravel()
    near = (np.abs(dx) < max_shift) & (np.abs(dy) < max_shift)
    dx, dy = dx[near], dy[near]
    if not len(dx):
        return 0.0, 0.0
    bins = int(2 * max_shift / 2.0) + 1
    hist, xe, ye = np.histogram2d(dx, dy, bins=bins, range=[[-max_shift, max_shift]] * 2)
    ix, iy = np.unravel_index(np.argmax(hist), hist.shape)
    x0, y0 = (xe[ix] + xe[ix + 1]) / 2, (ye[iy] + ye[iy + 1]) / 2
    close = (np.abs(dx - x0) < 3) & (np.abs(dy - y0) < 3)
    return float(np.median(dx[close])), float(np.median(dy[close]))


def fit_tan(
    x: Array, y: Array, ra: Array, dec: Array, crval: tuple[float, float]
) -> dict[str, Any]:
    """Least-squares linear TAN model mapping 0-based pixels to the matched stars."""
    xi, eta, _ = tan.sky_to_standard(crval[0], crval[1], ra, dec)
    design = np.column_stack([x + 1.0, y + 1.0, np.ones_like(x)])
    coef_xi, *_ = np.linalg.lstsq(design, xi, rcond=None)
    coef_eta, *_ = np.linalg.lstsq(design, eta, rcond=None)
    cd = np.array([coef_xi[:2], coef_eta[:2]])
    crpix = -np.linalg.solve(cd, np.array([coef_xi[2], coef_eta[2]]))
    return tan.tan_header(crval, (float(crpix[0]), float(crpix[1])), cd)


def residuals_arcsec(wcs: dict[str, Any], x: Array, y: Array, ra: Array, dec: Array) -> Array:
    px, py = tan.sky_to_pixel(wcs, ra, dec)
    return np.hypot(px - x, py - y) * tan.pixel_scale_arcsec(wcs)


def refine(
    wcs: dict[str, Any],
    sx: Array,
    sy: Array,
    cat_ra: Array,
    cat_dec: Array,
    shape: tuple[int, int],
    *,
    search_shift_px: float,
) -> tuple[dict[str, Any], Array, NDArray[np.intp], NDArray[np.intp]] | None:
    """Line the catalog up with the sources (shift search, then iterative refits)."""
    h, w = shape
    cx, cy = tan.sky_to_pixel(wcs, cat_ra, cat_dec)
    inside = np.isfinite(cx) & (cx > -search_shift_px) & (cx < w + search_shift_px)
    inside &= (cy > -search_shift_px) & (cy < h + search_shift_px)
    if inside.sum() < MIN_MATCHES or len(sx) < MIN_MATCHES:
        return None
    # sources and catalog stars arrive brightest first: vote with the bright ones
    bright_s = np.arange(min(len(sx), 60))
    bright_c = np.flatnonzero(inside)[:80]
    dx, dy = find_offset(sx[bright_s], sy[bright_s], cx[bright_c], cy[bright_c], search_shift_px)
    current = wcs
    crval = (float(wcs["CRVAL1"]), float(wcs["CRVAL2"]))
    radius = 4.0
    for attempt in range(4):
        cx, cy = tan.sky_to_pixel(current, cat_ra, cat_dec)
        if attempt == 0:
            cx, cy = cx - dx, cy - dy
        ok = np.isfinite(cx)
        i_s, j_c = match_nearest(sx, sy, cx[ok], cy[ok], radius)
        j_c = np.flatnonzero(ok)[j_c]
        if len(i_s) < MIN_MATCHES:
            return None
        current = fit_tan(sx[i_s], sy[i_s], cat_ra[j_c], cat_dec[j_c], crval)
        res = residuals_arcsec(current, sx[i_s], sy[i_s], cat_ra[j_c], cat_dec[j_c])
        radius = max(1.5, 4.0 * float(np.median(res)) / tan.pixel_scale_arcsec(current) + 1.0)
    keep = res < 5 * max(float(np.median(res)), 0.05)
    final = fit_tan(sx[i_s[keep]], sy[i_s[keep]], cat_ra[j_c[keep]], cat_dec[j_c[keep]], crval)
    res = residuals_arcsec(
        final, sx[i_s[keep]], sy[i_s[keep]], cat_ra[j_c[keep]], cat_dec[j_c[keep]]
    )
    return final, res, i_s[keep], j_c[keep]


def centre_offset_arcsec(a: dict[str, Any], b: dict[str, Any], shape: tuple[int, int]) -> float:
    cx, cy = np.array([(shape[1] - 1) / 2]), np.array([(shape[0] - 1) / 2])
    ra1, dec1 = tan.pixel_to_sky(a, cx, cy)
    ra2, dec2 = tan.pixel_to_sky(b, cx, cy)
    return float(angular_separation_deg(float(ra1[0]), float(dec1[0]), ra2, dec2)[0]) * 3600.0


def solve_field_available() -> bool:
    return shutil.which("solve-field") is not None


def solve_field(
    sx: Array,
    sy: Array,
    flux: Array,
    shape: tuple[int, int],
    *,
    scale_arcsec: float | None,
    near: tuple[float, float] | None,
    cpu_seconds: float = 20.0,
) -> dict[str, Any] | None:
    """Blind or hinted solve with astrometry.net from our own source list (x, y, flux), so its
    image-processing helpers (which break under numpy 2) never run. None when unsolved."""
    if not solve_field_available():
        raise AstrometryFailed(
            "solve-field is not installed; install astrometry.net and an index "
            "(apt install astrometry.net astrometry-data-tycho2)"
        )
    from astropy.io import fits

    order = np.argsort(-flux)[:300]
    h, w = shape
    attempts: list[list[str]] = []
    hints: list[str] = []
    if scale_arcsec:
        hints = [
            "--scale-units",
            "arcsecperpix",
            "--scale-low",
            f"{scale_arcsec * 0.8:.4f}",
            "--scale-high",
            f"{scale_arcsec * 1.2:.4f}",
        ]
    if near is not None:
        attempts.append(
            [*hints, "--ra", f"{near[0]:.5f}", "--dec", f"{near[1]:.5f}", "--radius", "5"]
        )
    attempts.append(hints)
    if hints:
        attempts.append([])  # a wrong scale hint never solves: last try without any
    with tempfile.TemporaryDirectory() as tmp:
        xyls = Path(tmp) / "sources.xyls"
        columns = [
            fits.Column(name="X", format="D", array=sx[order] + 1.0),
            fits.Column(name="Y", format="D", array=sy[order] + 1.0),
            fits.Column(name="FLUX", format="D", array=flux[order]),
        ]
        fits.BinTableHDU.from_columns(columns).writeto(xyls)
        for extra in attempts:
            out = Path(tmp) / "out.wcs"
            command = [
                "solve-field",
                str(xyls),
                "--overwrite",
                "--no-plots",
                "--no-verify",
                "--width",
                str(w),
                "--height",
                str(h),
                "--x-column",
                "X",
                "--y-column",
                "Y",
                "--sort-column",
                "FLUX",
                "--cpulimit",
                f"{cpu_seconds:.0f}",
                "--tweak-order",
                "1",
                "--dir",
                tmp,
                "--wcs",
                str(out),
                "--new-fits",
                "none",
                "--corr",
                "none",
                "--rdls",
                "none",
                "--match",
                "none",
                "--index-xyls",
                "none",
                "--solved",
                "none",
                "--temp-axy",
                *extra,
            ]
            try:
                subprocess.run(
                    command, capture_output=True, timeout=cpu_seconds * 3 + 10, check=False
                )
            except subprocess.TimeoutExpired:
                continue
            if out.exists():
                with fits.open(out) as hdus:
                    return header_wcs(dict(hdus[0].header.items()))
    return None


def field_centre(wcs: dict[str, Any], shape: tuple[int, int]) -> tuple[float, float, float]:
    """(ra, dec, radius_deg) covering the frame."""
    h, w = shape
    ra, dec = tan.pixel_to_sky(wcs, np.array([(w - 1) / 2]), np.array([(h - 1) / 2]))
    radius = math.hypot(w, h) / 2 * tan.pixel_scale_arcsec(wcs) / 3600.0
    return float(ra[0]), float(dec[0]), radius
