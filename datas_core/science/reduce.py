"""One frame in, calibrated and flagged photometry out: validate, extract, astrometry,
aperture photometry, zero point, target (calibrated and differential), quality flags.

The same function serves the server pipeline, `datas frames reduce` and the site agent.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from datas_core import __version__
from datas_core.science import astrometry, calibration, quality, tan
from datas_core.science.catalogs import CatalogError, CatalogStars, ReferenceCatalog
from datas_core.science.frame_io import FrameRejected, LoadedFrame, load_frame
from datas_core.science.photometry import (
    Background,
    Sources,
    extract_sources,
    measure_apertures,
    measure_background,
    scintillation_mag,
)
from datas_core.sky.vectors import angular_separation_deg

PIPELINE_VERSION = f"datas-{__version__}"
# Which catalog band stands in for a filter when the catalog lacks the filter's own band.
BAND_ALIASES = {
    "V": ("V", "VT", "G"),
    "CLEAR": ("R", "V", "VT"),
    "L": ("V", "R", "VT"),
    "R": ("R", "r", "VT"),
    "B": ("B", "BT"),
    "I": ("I", "i"),
}
MAX_COMPARISON_STARS = 12


@dataclass
class ReductionOptions:
    catalog: ReferenceCatalog | None = None
    band: str | None = None  # catalog band to calibrate against; default: the frame's filter
    target_ra_deg: float | None = None
    target_dec_deg: float | None = None
    gain: float | None = None  # e-/ADU; default: GAIN/EGAIN from the header, else 1
    read_noise_e: float | None = None  # default: RDNOISE from the header
    saturation_adu: float | None = None  # default: SATURATE from the header, else 65535
    pixel_scale_arcsec: float | None = None  # the site's pixel scale: a solve-field hint
    solve: Literal["auto", "never", "always"] = "auto"
    solve_cpu_seconds: float = 20.0
    header_map: dict[str, str] = field(default_factory=dict)
    expected_zero_point: float | None = None  # the site's usual zero point in this band
    aperture_mm: float | None = None  # for the scintillation floor
    airmass: float | None = None
    limits: quality.QualityLimits = field(default_factory=quality.QualityLimits)
    colour: tuple[str, str] | None = None  # e.g. ("B", "V"): fit a colour term on B-V
    threshold_sigma: float = 5.0


@dataclass
class TargetMeasurement:
    ra_deg: float
    dec_deg: float
    x: float
    y: float
    flux: float
    flux_err: float
    snr: float
    instrumental_mag: float | None
    magnitude: float | None
    mag_error: float | None
    limiting_mag: float | None
    differential: calibration.Differential | None
    flags: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ra_deg": self.ra_deg,
            "dec_deg": self.dec_deg,
            "x": round(self.x, 3),
            "y": round(self.y, 3),
            "flux": self.flux,
            "flux_err": self.flux_err,
            "snr": round(self.snr, 2),
            "instrumental_mag": _round(self.instrumental_mag),
            "magnitude": _round(self.magnitude),
            "mag_error": _round(self.mag_error),
            "limiting_mag": _round(self.limiting_mag),
            "differential_magnitude": _round(
                self.differential.magnitude if self.differential else None
            ),
            "differential_error": _round(self.differential.error if self.differential else None),
            "comparison_stars": self.differential.comparison_ids if self.differential else [],
            "flags": self.flags,
        }


@dataclass
class Reduction:
    frame: LoadedFrame
    background: Background
    sources: Sources
    astrometry: astrometry.Astrometry | None
    zero_point: calibration.ZeroPoint | None
    band: str | None
    target: TargetMeasurement | None
    flags: list[str]
    fwhm_px: float | None
    elongation: float | None
    sky_mag_arcsec2: float | None
    catalog_name: str | None
    catalog_version: str | None
    seconds: dict[str, float]
    calibration_ids: list[str] = field(default_factory=list)
    # (source index, catalog index) of the stars the zero point was fitted on
    calibration_match: tuple[NDArray[np.intp], NDArray[np.intp]] | None = None

    def calibrated_stars(self) -> dict[str, NDArray[Any]]:
        """Calibrated magnitudes of the zero-point stars (for checks against the catalog)."""
        if self.calibration_match is None or self.zero_point is None:
            empty = np.zeros(0)
            return {"index": empty, "magnitude": empty, "mag_error": empty, "snr": empty}
        i_s, j_c = self.calibration_match
        s = self.sources
        m_inst, m_err = calibration.instrumental(s.flux[i_s], s.flux_err[i_s], self.frame.exptime)
        return {
            "index": j_c,
            "magnitude": m_inst + self.zero_point.value,
            "mag_error": np.hypot(m_err, self.zero_point.error),
            "snr": s.snr[i_s],
        }

    @property
    def fwhm_arcsec(self) -> float | None:
        if self.fwhm_px is None or self.astrometry is None:
            return None
        return self.fwhm_px * tan.pixel_scale_arcsec(self.astrometry.wcs)

    def as_dict(self, max_sources: int | None = None) -> dict[str, Any]:
        s = self.sources
        n = len(s) if max_sources is None else min(len(s), max_sources)
        return {
            "observed_at": self.frame.observed_at.isoformat(),
            "exptime": self.frame.exptime,
            "filter": self.frame.filter,
            "shape": list(self.frame.data.shape),
            "n_sources": len(s),
            "sources": [
                {
                    "x": round(float(s.x[i]), 3),
                    "y": round(float(s.y[i]), 3),
                    "flux": float(s.flux[i]),
                    "flux_err": float(s.flux_err[i]),
                    "fwhm": _round(float(s.fwhm[i]), 3),
                    "flags": int(s.flags[i]),
                }
                for i in range(n)
            ],
            "aperture_radius_px": round(s.aperture_radius, 3),
            "fwhm_px": _round(self.fwhm_px, 3),
            "fwhm_arcsec": _round(self.fwhm_arcsec, 3),
            "elongation": _round(self.elongation, 3),
            "sky_adu": round(self.background.global_level, 2),
            "sky_mag_arcsec2": _round(self.sky_mag_arcsec2, 3),
            "wcs": self.astrometry.as_dict() if self.astrometry else None,
            "band": self.band,
            "zero_point": self.zero_point.as_dict() if self.zero_point else None,
            "target": self.target.as_dict() if self.target else None,
            "flags": self.flags,
            "provenance": {
                "pipeline_version": PIPELINE_VERSION,
                "catalog": self.catalog_name,
                "catalog_version": self.catalog_version,
            },
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }


def reduce_frame(
    source: str | Path | bytes | LoadedFrame | NDArray[Any],
    options: ReductionOptions,
    header: dict[str, Any] | None = None,
) -> Reduction:
    """Reduce one frame; raises FrameRejected with a reason code when it cannot be used."""
    clock = _Clock()
    frame = (
        source
        if isinstance(source, LoadedFrame)
        else load_frame(source, header, header_map=options.header_map)
    )
    clock.lap("load")
    gain = options.gain or _header_number(frame.header, ("GAIN", "EGAIN")) or 1.0
    read_noise = options.read_noise_e or _header_number(frame.header, ("RDNOISE", "READNOIS"))
    saturation = options.saturation_adu or _header_number(frame.header, ("SATURATE",)) or 65535.0
    background = measure_background(frame.data, frame.mask)
    sources = extract_sources(
        frame.data, background, gain=gain, mask=frame.mask, threshold_sigma=options.threshold_sigma
    )
    order = np.argsort(-sources.flux)
    sources = _take(sources, order)
    clock.lap("extract")
    if len(sources) < 3:
        raise FrameRejected(
            "no_stars",
            f"only {len(sources)} source(s) above {options.threshold_sigma:g} sigma: empty sky, "
            "thick cloud, a closed shutter or far out of focus",
        )
    shape = (frame.data.shape[0], frame.data.shape[1])
    fit, catalog_stars = _astrometry(frame, sources, options, shape)
    clock.lap("astrometry")
    saturated = sources.peak >= 0.95 * saturation
    clean = (sources.flags & 0x3) == 0  # not merged, not truncated at the edge
    good_shape = clean & ~saturated & (sources.snr > 20) & np.isfinite(sources.fwhm)
    fwhm_px = float(np.median(sources.fwhm[good_shape])) if good_shape.sum() >= 3 else None
    elongation = float(np.median(sources.elongation[good_shape])) if good_shape.sum() >= 3 else None

    band: str | None = None
    zp: calibration.ZeroPoint | None = None
    calib_ids: list[str] = []
    match = None
    target_xy = None
    if fit is not None and options.target_ra_deg is not None and options.target_dec_deg is not None:
        tx, ty = tan.sky_to_pixel(
            fit.wcs, np.array([options.target_ra_deg]), np.array([options.target_dec_deg])
        )
        target_xy = (float(tx[0]), float(ty[0]))
        _check_target_in_frame(target_xy, shape, fit, options)
    if fit is not None and catalog_stars is not None and len(catalog_stars):
        band = _pick_band(options.band or frame.filter, catalog_stars)
        if band is not None:
            zp, calib_ids, match = _zero_point(
                sources,
                catalog_stars,
                band,
                fit,
                frame.exptime,
                saturated,
                clean,
                target_xy,
                shape,
                options.colour,
            )
    clock.lap("calibrate")

    target = None
    if target_xy is not None:
        target = _measure_target(
            frame,
            background,
            sources,
            target_xy,
            options,
            gain,
            saturation,
            zp,
            match,
            catalog_stars,
            band,
        )
    sky_mag = _sky_brightness(background, gain, read_noise, frame.exptime, zp, fit)
    flags = quality.frame_flags(
        options.limits,
        saturated_share=float(saturated.mean()) if len(saturated) else 0.0,
        fwhm_arcsec=fwhm_px * tan.pixel_scale_arcsec(fit.wcs) if fwhm_px and fit else None,
        elongation=elongation,
        zero_point=zp.value if zp else None,
        expected_zero_point=options.expected_zero_point,
        sky_mag_arcsec2=sky_mag,
        astrometric_rms_arcsec=fit.rms_arcsec if fit and math.isfinite(fit.rms_arcsec) else None,
    )
    if (
        target_xy is not None
        and fit is not None
        and _pointing_offset_share(target_xy, shape) > options.limits.max_pointing_offset_share
    ):
        flags.append("pointing_offset")
    if target is not None:
        flags.extend(f for f in target.flags if f not in flags)
    clock.lap("measure")
    return Reduction(
        frame=frame,
        background=background,
        sources=sources,
        astrometry=fit,
        zero_point=zp,
        band=band,
        target=target,
        flags=flags,
        fwhm_px=fwhm_px,
        elongation=elongation,
        sky_mag_arcsec2=sky_mag,
        catalog_name=options.catalog.name if options.catalog else None,
        catalog_version=options.catalog.version if options.catalog else None,
        seconds=clock.laps,
        calibration_ids=calib_ids,
        calibration_match=match,
    )


def _astrometry(
    frame: LoadedFrame, sources: Sources, options: ReductionOptions, shape: tuple[int, int]
) -> tuple[astrometry.Astrometry | None, CatalogStars | None]:
    header = astrometry.header_wcs(frame.header) if options.solve != "always" else None
    catalog = options.catalog
    stars: CatalogStars | None = None

    def query(wcs: dict[str, Any]) -> CatalogStars | None:
        if catalog is None:
            return None
        ra, dec, radius = astrometry.field_centre(wcs, shape)
        try:
            return catalog.query(ra, dec, radius * 1.5).brightest_first()
        except CatalogError as exc:
            raise FrameRejected("catalog", str(exc)) from exc

    if header is not None:
        stars = query(header)
        if stars is None:
            return astrometry.Astrometry(header, math.nan, 0, "header", 0.0), None
        refined = astrometry.refine(
            header,
            sources.x,
            sources.y,
            stars.ra_deg,
            stars.dec_deg,
            shape,
            search_shift_px=min(shape) / 4,
        )
        if refined is not None and np.median(refined[1]) < 3 * tan.pixel_scale_arcsec(header):
            wcs, res, _, _ = refined
            rms = float(np.sqrt(np.mean(res**2)))
            moved = astrometry.centre_offset_arcsec(header, wcs, shape)
            return astrometry.Astrometry(wcs, rms, len(res), "header+refit", moved), stars
    if options.solve == "never" or not astrometry.solve_field_available():
        why = "the header WCS does not match the catalog" if header else "the header has no WCS"
        hint = "" if options.solve == "never" else " (install astrometry.net to solve fields)"
        raise FrameRejected("no_astrometry", f"no astrometric solution: {why}{hint}")
    scale = options.pixel_scale_arcsec or (tan.pixel_scale_arcsec(header) if header else None)
    near = None
    if header is not None:
        near = astrometry.field_centre(header, shape)[:2]
    elif options.target_ra_deg is not None and options.target_dec_deg is not None:
        near = (options.target_ra_deg, options.target_dec_deg)
    else:
        near = _pointing_from_header(frame.header)
    solved = astrometry.solve_field(
        sources.x,
        sources.y,
        sources.flux,
        shape,
        scale_arcsec=scale,
        near=near,
        cpu_seconds=options.solve_cpu_seconds,
    )
    if solved is None:
        raise FrameRejected(
            "no_astrometry",
            "astrometry.net found no solution (too few stars, a field narrower than the index "
            "covers, or a wrong pixel scale hint)",
        )
    stars = query(solved)
    moved = astrometry.centre_offset_arcsec(header, solved, shape) if header else math.nan
    if stars is not None and len(stars):
        refined = astrometry.refine(
            solved, sources.x, sources.y, stars.ra_deg, stars.dec_deg, shape, search_shift_px=20
        )
        if refined is not None:
            wcs, res, _, _ = refined
            if header is not None:
                moved = astrometry.centre_offset_arcsec(header, wcs, shape)
            return astrometry.Astrometry(
                wcs, float(np.sqrt(np.mean(res**2))), len(res), "solve-field", moved
            ), stars
    return astrometry.Astrometry(solved, math.nan, 0, "solve-field", moved), stars


def _zero_point(
    sources: Sources,
    stars: CatalogStars,
    band: str,
    fit: astrometry.Astrometry,
    exptime: float,
    saturated: NDArray[np.bool_],
    clean: NDArray[np.bool_],
    target_xy: tuple[float, float] | None,
    shape: tuple[int, int],
    colour: tuple[str, str] | None = None,
) -> tuple[calibration.ZeroPoint | None, list[str], tuple[NDArray[np.intp], NDArray[np.intp]]]:
    cx, cy = tan.sky_to_pixel(fit.wcs, stars.ra_deg, stars.dec_deg)
    ok = np.isfinite(cx)
    radius = (
        max(2.0, 3.0 * fit.rms_arcsec / tan.pixel_scale_arcsec(fit.wcs))
        if math.isfinite(fit.rms_arcsec)
        else 3.0
    )
    i_s, j_c = astrometry.match_nearest(sources.x, sources.y, cx[ok], cy[ok], radius)
    j_c = np.flatnonzero(ok)[j_c]
    usable = clean[i_s] & ~saturated[i_s] & (sources.flux[i_s] > 0) & _inside(sources, i_s, shape)
    if target_xy is not None:
        far = (
            np.hypot(sources.x[i_s] - target_xy[0], sources.y[i_s] - target_xy[1])
            > 3 * sources.aperture_radius
        )
        usable &= far
    usable &= _isolated(cx, cy, stars.mags[band], j_c, 2 * sources.aperture_radius)
    i_s, j_c = i_s[usable], j_c[usable]
    m_inst, m_err = calibration.instrumental(sources.flux[i_s], sources.flux_err[i_s], exptime)
    cat_err = stars.mag_errors.get(band)
    colour_values, colour_name = None, None
    if colour is not None and colour[0] in stars.mags and colour[1] in stars.mags:
        colour_values = stars.mags[colour[0]][j_c] - stars.mags[colour[1]][j_c]
        colour_name = f"{colour[0]}-{colour[1]}"
    zp = calibration.fit_zero_point(
        m_inst,
        m_err,
        stars.mags[band][j_c],
        None if cat_err is None else cat_err[j_c],
        colour=colour_values,
        colour_index=colour_name,
    )
    return zp, [stars.ids[j] for j in j_c], (i_s, j_c)


def _isolated(
    cx: NDArray[np.float64],
    cy: NDArray[np.float64],
    mags: NDArray[np.float64],
    picked: NDArray[np.intp],
    radius: float,
    max_contrast_mag: float = 3.5,
) -> NDArray[np.bool_]:
    """Catalog stars with no other catalog star inside `radius` pixels bright enough to bias
    them (within `max_contrast_mag`): unresolved blends would pull the zero point."""
    from scipy.spatial import cKDTree

    if not len(picked):
        return np.zeros(0, dtype=bool)
    ok = np.flatnonzero(np.isfinite(cx) & np.isfinite(cy))
    tree = cKDTree(np.column_stack([cx[ok], cy[ok]]))
    neighbours = tree.query_ball_point(np.column_stack([cx[picked], cy[picked]]), radius)
    isolated = np.ones(len(picked), dtype=bool)
    for n, (star, near) in enumerate(zip(picked, neighbours, strict=True)):
        others = ok[near]
        others = others[others != star]
        if len(others) and np.any(~(mags[others] > mags[star] + max_contrast_mag)):
            isolated[n] = False
    return isolated


def _measure_target(
    frame: LoadedFrame,
    background: Background,
    sources: Sources,
    xy: tuple[float, float],
    options: ReductionOptions,
    gain: float,
    saturation: float,
    zp: calibration.ZeroPoint | None,
    match: tuple[NDArray[np.intp], NDArray[np.intp]] | None,
    stars: CatalogStars | None,
    band: str | None,
) -> TargetMeasurement:
    radius = sources.aperture_radius
    d = np.hypot(sources.x - xy[0], sources.y - xy[1])
    nearest = int(np.argmin(d))
    x, y = xy
    flags: list[str] = []
    if d[nearest] <= max(2.0, radius / 2):  # the detected source at the position: its centroid
        x, y = float(sources.x[nearest]), float(sources.y[nearest])
        if sources.peak[nearest] >= 0.95 * saturation:
            flags.append("target_saturated")
        if sources.flags[nearest] & 0x1:
            flags.append("target_blended")
    neighbours = (
        (d > max(2.0, radius / 2))
        & (d < 2 * radius)
        & (sources.flux > 0.05 * max(float(sources.flux[nearest]), 1.0))
    )
    if neighbours.any() and "target_blended" not in flags:
        flags.append("target_blended")
    h, w = frame.data.shape
    if min(x, y, w - 1 - x, h - 1 - y) < 2 * radius:
        flags.append("target_near_edge")
    subtracted = frame.data - background.level
    flux_a, err_a, _ = measure_apertures(
        subtracted, background, np.array([x]), np.array([y]), radius, gain=gain, mask=frame.mask
    )
    flux, flux_err = float(flux_a[0]), float(err_a[0])
    snr = flux / flux_err if flux_err > 0 else 0.0
    m_inst, m_err = calibration.instrumental(np.array([flux]), np.array([flux_err]), frame.exptime)
    inst = float(m_inst[0]) if np.isfinite(m_inst[0]) else None
    inst_err = float(m_err[0]) if np.isfinite(m_err[0]) else None
    if inst_err is not None and options.aperture_mm:
        scint = scintillation_mag(options.aperture_mm, options.airmass or 1.0, frame.exptime)
        inst_err = math.hypot(inst_err, scint)
    magnitude = mag_error = limiting = None
    if zp is not None:
        limiting = zp.value - 2.5 * math.log10(max(3 * flux_err, 1e-30) / frame.exptime)
        if snr >= 3 and inst is not None and inst_err is not None:
            magnitude = inst + zp.value
            mag_error = math.hypot(inst_err, zp.error)
    if snr < 3:
        flags.append("target_not_detected")
    diff = None
    if (
        match is not None
        and stars is not None
        and band is not None
        and inst is not None
        and inst_err is not None
    ):
        diff = _ensemble(sources, stars, band, match, inst, inst_err, frame.exptime)
    if zp is not None and (
        diff is None or len(diff.comparison_ids) < options.limits.min_comparison_stars
    ):
        flags.append("few_comparison_stars")
    ra, dec = options.target_ra_deg or 0.0, options.target_dec_deg or 0.0
    return TargetMeasurement(
        ra, dec, x, y, flux, flux_err, snr, inst, magnitude, mag_error, limiting, diff, flags
    )


def _ensemble(
    sources: Sources,
    stars: CatalogStars,
    band: str,
    match: tuple[NDArray[np.intp], NDArray[np.intp]],
    inst: float,
    inst_err: float,
    exptime: float,
) -> calibration.Differential | None:
    i_s, j_c = match
    good = sources.snr[i_s] > 20
    i_s, j_c = i_s[good], j_c[good]
    if not len(i_s):
        return None
    cat = stars.mags[band][j_c]
    m_inst, m_err = calibration.instrumental(sources.flux[i_s], sources.flux_err[i_s], exptime)
    usable = np.isfinite(cat) & np.isfinite(m_inst)
    if not usable.any():
        return None
    # comparison stars closest in brightness to the target (similar colour and error regime)
    target_estimate = inst + float(np.median((cat - m_inst)[usable]))
    closest = np.argsort(np.where(usable, np.abs(cat - target_estimate), np.inf))
    pick = closest[: min(MAX_COMPARISON_STARS, int(usable.sum()))]
    return calibration.differential(
        inst, inst_err, m_inst[pick], m_err[pick], cat[pick], [stars.ids[j] for j in j_c[pick]]
    )


def _check_target_in_frame(
    xy: tuple[float, float],
    shape: tuple[int, int],
    fit: astrometry.Astrometry,
    options: ReductionOptions,
) -> None:
    h, w = shape
    x, y = xy
    if np.isfinite(x) and 0 <= x < w and 0 <= y < h:
        return
    ra, dec, _ = astrometry.field_centre(fit.wcs, shape)
    away = float(
        angular_separation_deg(
            ra, dec, np.array([options.target_ra_deg]), np.array([options.target_dec_deg])
        )[0]
    )
    raise FrameRejected(
        "target_outside",
        f"the frame does not contain the target: it points at RA {ra:.4f} Dec {dec:+.4f}, "
        f"{away:.3f} deg from the target; check the mount's pointing model or the target id",
    )


def _pointing_offset_share(xy: tuple[float, float], shape: tuple[int, int]) -> float:
    h, w = shape
    return math.hypot(xy[0] - (w - 1) / 2, xy[1] - (h - 1) / 2) / min(h, w)


def _sky_brightness(
    background: Background,
    gain: float,
    read_noise: float | None,
    exptime: float,
    zp: calibration.ZeroPoint | None,
    fit: astrometry.Astrometry | None,
) -> float | None:
    """Sky surface brightness from the noise of the background, which a bias level does not
    change: sky electrons = (gain x rms)^2 - read noise^2."""
    if zp is None or fit is None or read_noise is None:
        return None
    sky_e = (gain * background.global_rms) ** 2 - read_noise**2
    if sky_e <= 0:
        return None
    per_arcsec2 = sky_e / gain / exptime / tan.pixel_scale_arcsec(fit.wcs) ** 2
    return zp.value - 2.5 * math.log10(per_arcsec2)


def _pointing_from_header(header: dict[str, Any]) -> tuple[float, float] | None:
    """Where the mount pointed, from RA/DEC or OBJCTRA/OBJCTDEC (degrees or sexagesimal)."""
    from astropy.coordinates import Angle

    for ra_key, dec_key in (("RA", "DEC"), ("OBJCTRA", "OBJCTDEC")):
        ra, dec = header.get(ra_key), header.get(dec_key)
        if ra is None or dec is None:
            continue
        try:
            if isinstance(ra, (int, float)):
                return float(ra), float(dec)
            return float(Angle(str(ra), unit="hourangle").deg), float(
                Angle(str(dec), unit="deg").deg
            )
        except (ValueError, TypeError):
            continue
    return None


def _pick_band(wanted: str | None, stars: CatalogStars) -> str | None:
    if not stars.mags:
        return None
    if wanted:
        for band in (wanted, *BAND_ALIASES.get(wanted.upper(), ())):
            if band in stars.mags:
                return band
        return None
    return next(iter(stars.mags))


def _inside(sources: Sources, idx: NDArray[np.intp], shape: tuple[int, int]) -> NDArray[np.bool_]:
    h, w = shape
    r = 2 * sources.aperture_radius
    x, y = sources.x[idx], sources.y[idx]
    return (x >= r) & (y >= r) & (x < w - 1 - r) & (y < h - 1 - r)


def _take(sources: Sources, order: NDArray[np.intp]) -> Sources:
    return Sources(
        x=sources.x[order],
        y=sources.y[order],
        flux=sources.flux[order],
        flux_err=sources.flux_err[order],
        peak=sources.peak[order],
        a=sources.a[order],
        b=sources.b[order],
        fwhm=sources.fwhm[order],
        flags=sources.flags[order],
        aperture_radius=sources.aperture_radius,
    )


def _header_number(header: dict[str, Any], names: tuple[str, ...]) -> float | None:
    for name in names:
        try:
            value = float(header[name])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(value) and value > 0:
            return value
    return None


def _round(value: float | None, digits: int = 5) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


class _Clock:
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self.last
        self.last = now
        self.laps["total"] = now - self.start
