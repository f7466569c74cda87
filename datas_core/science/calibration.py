"""Photometric calibration: a robust zero point (iterative clipping, an intrinsic-scatter term,
optional colour term) and differential magnitudes against a weighted comparison ensemble."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
MAG_PER_SNR = 2.5 / math.log(10)


@dataclass
class ZeroPoint:
    value: float
    error: float
    scatter: float  # intrinsic scatter added in quadrature to every star's error
    n_used: int
    n_rejected: int
    colour_term: float | None = None
    colour_index: str | None = None
    # With a colour term, `value` is the zero point at this colour (the calibration stars'
    # median): a star of colour c gets m_inst + value + colour_term * (c - colour_reference).
    colour_reference: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "value": round(self.value, 5),
            "error": round(self.error, 5),
            "scatter": round(self.scatter, 5),
            "n_used": self.n_used,
            "n_rejected": self.n_rejected,
            "colour_term": None if self.colour_term is None else round(self.colour_term, 5),
            "colour_index": self.colour_index,
            "colour_reference": None
            if self.colour_reference is None
            else round(self.colour_reference, 4),
        }


@dataclass
class Differential:
    magnitude: float
    error: float
    comparison_ids: list[str] = field(default_factory=list)


def instrumental(flux: Array, flux_err: Array, exptime: float) -> tuple[Array, Array]:
    """-2.5 log10(counts per second) and its error; NaN where the flux is not positive."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(flux > 0, -2.5 * np.log10(np.maximum(flux, 1e-30) / exptime), np.nan)
        err = np.where(flux > 0, MAG_PER_SNR * flux_err / np.maximum(flux, 1e-30), np.nan)
    return mag, err


def fit_zero_point(
    m_inst: Array,
    m_inst_err: Array,
    m_cat: Array,
    m_cat_err: Array | None = None,
    *,
    colour: Array | None = None,
    colour_index: str | None = None,
    clip_sigma: float = 3.0,
) -> ZeroPoint | None:
    """ZP = m_cat - m_inst (+ colour term x colour), weighted, with outliers clipped."""
    cat_err = np.zeros_like(m_cat) if m_cat_err is None else np.nan_to_num(m_cat_err, nan=0.0)
    ok = np.isfinite(m_inst) & np.isfinite(m_inst_err) & np.isfinite(m_cat) & (m_inst_err > 0)
    if colour is not None:
        ok &= np.isfinite(colour)
    n_total = int(ok.sum())
    if n_total < 3:
        return None
    delta = m_cat - m_inst
    base_var = m_inst_err**2 + cat_err**2
    use = ok.copy()
    scatter, value, slope = 0.0, float(np.median(delta[ok])), 0.0
    for _ in range(10):
        var = base_var + scatter**2
        model = value + (slope * colour if colour is not None else 0.0)
        resid = delta - model
        use_next = ok & (np.abs(resid) <= clip_sigma * np.sqrt(var))
        if use_next.sum() < 3:
            break
        use = use_next
        w = 1.0 / var[use]
        if colour is not None and use.sum() >= 6:
            design = np.column_stack([np.ones(use.sum()), colour[use]])
            coef = np.linalg.lstsq(
                design * np.sqrt(w)[:, None], delta[use] * np.sqrt(w), rcond=None
            )[0]
            value, slope = float(coef[0]), float(coef[1])
        else:
            value = float(np.sum(w * delta[use]) / np.sum(w))
        scatter = _intrinsic_scatter(
            delta[use] - (slope * colour[use] if colour is not None else 0.0), base_var[use]
        )
    var = base_var[use] + scatter**2
    error = float(1.0 / math.sqrt(np.sum(1.0 / var)))
    reference = None
    if colour is not None:
        reference = float(np.median(colour[use]))
        value += slope * reference
    return ZeroPoint(
        value=value,
        error=error,
        scatter=scatter,
        n_used=int(use.sum()),
        n_rejected=n_total - int(use.sum()),
        colour_term=slope if colour is not None else None,
        colour_index=colour_index if colour is not None else None,
        colour_reference=reference,
    )


def _intrinsic_scatter(values: Array, var: Array) -> float:
    """The extra scatter s that makes chi^2 per degree of freedom 1 (0 if the errors explain it)."""
    n = len(values)
    if n < 4:
        return 0.0

    def reduced_chi2(s: float) -> float:
        w = 1.0 / (var + s * s)
        mean = np.sum(w * values) / np.sum(w)
        return float(np.sum(w * (values - mean) ** 2) / (n - 1))

    if reduced_chi2(0.0) <= 1.0:
        return 0.0
    lo, hi = 0.0, float(np.std(values)) + 1e-6
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if reduced_chi2(mid) > 1.0 else (lo, mid)
    return (lo + hi) / 2


def differential(
    target_inst: float,
    target_inst_err: float,
    comp_inst: Array,
    comp_inst_err: Array,
    comp_cat: Array,
    comp_ids: list[str],
    *,
    clip_sigma: float = 3.0,
) -> Differential | None:
    """The target against a weighted ensemble of comparison stars; stars that disagree with
    the ensemble (variables, blends) are dropped before the final mean."""
    ok = np.isfinite(comp_inst) & np.isfinite(comp_cat) & (comp_inst_err > 0)
    if ok.sum() < 1 or not math.isfinite(target_inst):
        return None
    offset = comp_cat - comp_inst
    use = ok.copy()
    for _ in range(5):
        # robust centre and spread (median, MAD): one variable star must not hide itself
        centre = float(np.median(offset[use]))
        spread = (
            1.4826 * float(np.median(np.abs(offset[use] - centre))) if use.sum() > 3 else np.inf
        )
        spread = max(spread, 1e-3)
        use_next = ok & (np.abs(offset - centre) <= clip_sigma * np.hypot(comp_inst_err, spread))
        if use_next.sum() < 1 or np.array_equal(use_next, use):
            break
        use = use_next
    w = 1.0 / comp_inst_err[use] ** 2
    mean = float(np.sum(w * offset[use]) / np.sum(w))
    ensemble_err = float(1.0 / math.sqrt(np.sum(w)))
    return Differential(
        magnitude=target_inst + mean,
        error=math.hypot(target_inst_err, ensemble_err),
        comparison_ids=[comp_ids[i] for i in np.flatnonzero(use)],
    )
