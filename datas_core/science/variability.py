"""Light-curve models of variable stars and transit hosts, for the simulator and tests.

`model_for` picks a shape from the target's type and GCVS classification (RR Lyr and Cepheids
rise fast and decline slowly, Algols are flat between eclipses, Miras are long sinusoids, an
exoplanet host dims by ~1% in a trapezoid transit, irregulars wander a little) and fills what
the target does not say (period, amplitude, epoch, transit duration) with values drawn from a
hash of its name: the same target always gets the same light curve. `magnitude(base, jd)` is
vectorized over times. The catalog magnitude is the bright state: the maximum for pulsators,
out of eclipse or transit for binaries and planet hosts (GCVS lists maximum magnitudes).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from datas_core.sky.time import JD_J2000

Shape = str  # sawtooth, detached, beta_lyrae, w_uma, sinusoid, irregular, transit, constant


@dataclass(frozen=True)
class _Profile:
    shape: Shape
    period_days: tuple[float, float]  # drawn log-uniformly when the target gives none
    amplitude_mag: tuple[float, float]  # peak to peak (transit: depth as a flux fraction)
    rise_fraction: float = 0.2  # sawtooth: share of the cycle spent brightening


# GCVS type prefixes (longest first wins) -> shape and typical ranges.
_PROFILES: dict[str, _Profile] = {
    "RRAB": _Profile("sawtooth", (0.45, 0.75), (0.6, 1.1), 0.15),
    "RRC": _Profile("sawtooth", (0.25, 0.40), (0.3, 0.5), 0.4),
    "RR": _Profile("sawtooth", (0.3, 0.7), (0.4, 1.0), 0.2),
    "DCEP": _Profile("sawtooth", (3.0, 30.0), (0.5, 1.0), 0.3),
    "CEP": _Profile("sawtooth", (3.0, 30.0), (0.5, 1.0), 0.3),
    "CW": _Profile("sawtooth", (10.0, 30.0), (0.5, 1.0), 0.3),
    "DSCT": _Profile("sawtooth", (0.05, 0.2), (0.1, 0.3), 0.4),
    "SXPHE": _Profile("sawtooth", (0.04, 0.08), (0.3, 0.6), 0.35),
    "BCEP": _Profile("sawtooth", (0.1, 0.3), (0.03, 0.1), 0.5),
    "M": _Profile("sinusoid", (150.0, 450.0), (2.5, 6.0)),
    "MIRA": _Profile("sinusoid", (150.0, 450.0), (2.5, 6.0)),
    "SR": _Profile("sinusoid", (30.0, 300.0), (0.3, 1.2)),
    "RV": _Profile("sinusoid", (30.0, 150.0), (0.5, 1.5)),
    "L": _Profile("irregular", (5.0, 60.0), (0.1, 0.3)),
    "EA": _Profile("detached", (1.0, 10.0), (0.4, 1.5)),
    "EB": _Profile("beta_lyrae", (0.5, 3.0), (0.3, 0.8)),
    "EW": _Profile("w_uma", (0.25, 0.6), (0.2, 0.6)),
    "ELL": _Profile("w_uma", (0.5, 5.0), (0.02, 0.1)),
    "E": _Profile("detached", (1.0, 10.0), (0.4, 1.5)),
}
_IRREGULAR = _Profile("irregular", (5.0, 60.0), (0.1, 0.3))
_TRANSIT = _Profile("transit", (1.0, 6.0), (0.008, 0.012))
_CONSTANT = _Profile("constant", (1.0, 1.0), (0.0, 0.0))
TRANSIT_HOURS = (2.0, 4.0)
ECLIPSE_HALF_WIDTH = {"detached": 0.04, "beta_lyrae": 0.12}  # in phase
SECONDARY_DEPTH = {"detached": 0.4, "beta_lyrae": 0.5}  # relative to the primary


@dataclass(frozen=True)
class LightCurveModel:
    shape: Shape
    period_days: float
    amplitude_mag: float  # peak to peak; for a transit its depth in magnitudes
    epoch_jd: float  # maximum light (pulsators), primary minimum or mid-transit
    rise_fraction: float = 0.2
    duration_days: float = 0.0  # transit, first to fourth contact
    wander: tuple[tuple[float, float, float], ...] = ()  # irregular: (weight, period, phase)

    def delta_mag(self, jd: ArrayLike) -> NDArray[np.float64]:
        """How much fainter than the bright state at each JD (>= 0)."""
        t = np.asarray(jd, dtype=float)
        if self.shape == "constant" or self.amplitude_mag == 0:
            return np.zeros_like(t)
        if self.shape == "irregular":
            return self.amplitude_mag * _wander(t, self.wander)
        phase = np.mod((t - self.epoch_jd) / self.period_days, 1.0)
        if self.shape == "transit":
            return _transit_mag(phase, self.amplitude_mag, self.duration_days / self.period_days)
        return self.amplitude_mag * _SHAPES[self.shape](phase, self.rise_fraction)

    def magnitude(self, base_mag: float, jd: ArrayLike) -> NDArray[np.float64]:
        return base_mag + self.delta_mag(jd)

    def as_dict(self) -> dict[str, float | str]:
        return {
            "shape": self.shape,
            "period_days": self.period_days,
            "amplitude_mag": self.amplitude_mag,
            "epoch_jd": self.epoch_jd,
        }


def model_for(
    name: str,
    target_type: str | None = None,
    classification: str | None = None,
    *,
    period_days: float | None = None,
    amplitude_mag: float | None = None,
    epoch_jd: float | None = None,
    duration_hours: float | None = None,
) -> LightCurveModel:
    """The target's light curve: what it says about itself, the rest drawn from its name."""
    profile = _profile(target_type, classification)
    u = _uniforms(name, 5)
    lo, hi = profile.period_days
    period = _positive(period_days) or lo * (hi / lo) ** u[0]
    if profile.shape == "transit":
        depth = _between(u[1], profile.amplitude_mag)
        default_amplitude = -2.5 * math.log10(1.0 - depth)
    else:
        default_amplitude = _between(u[1], profile.amplitude_mag)
    amplitude = _finite(amplitude_mag)
    amplitude = default_amplitude if amplitude is None else abs(amplitude)
    epoch = _finite(epoch_jd)
    epoch = JD_J2000 + u[2] * period if epoch is None else epoch
    hours = _positive(duration_hours) or _between(u[3], TRANSIT_HOURS)
    duration = min(hours / 24.0, 0.3 * period)  # a transit never fills the orbit
    wander: tuple[tuple[float, float, float], ...] = ()
    if profile.shape == "irregular":
        rng = np.random.default_rng(int(u[4] * 2**32))
        wander = tuple(
            (float(w), float(period * f), float(p))
            for w, f, p in zip(
                rng.uniform(0.5, 1.0, 3),
                rng.uniform(0.3, 3.0, 3),
                rng.uniform(0, 2 * math.pi, 3),
                strict=True,
            )
        )
    return LightCurveModel(
        shape=profile.shape,
        period_days=float(period),
        amplitude_mag=float(amplitude),
        epoch_jd=float(epoch),
        rise_fraction=profile.rise_fraction,
        duration_days=duration,
        wander=wander,
    )


def _profile(target_type: str | None, classification: str | None) -> _Profile:
    kind = (target_type or "").lower()
    text = (classification or "").upper()
    if "transit" in kind or "TRANSIT" in text or "PLANET" in text:
        return _TRANSIT
    # "EA/SD" -> "EA", "EA+SRD" -> "EA", "SXPHE(B)" -> "SXPHE", "Mira" -> "MIRA"
    code = text.split("+")[0].split("/")[0].split("(")[0].strip()
    for prefix in sorted(_PROFILES, key=len, reverse=True):
        if code.startswith(prefix) and code:
            return _PROFILES[prefix]
    return _IRREGULAR if kind == "variable_star" or code else _CONSTANT


def _sawtooth(phase: NDArray[np.float64], rise: float) -> NDArray[np.float64]:
    """0 at maximum (phase 0), a slow decline to 1 at minimum, then a fast rise."""
    decline = 1.0 - rise
    return np.where(phase < decline, phase / decline, (1.0 - phase) / rise)


def _eclipse(phase: NDArray[np.float64], centre: float, half_width: float) -> NDArray[np.float64]:
    d = np.abs(np.mod(phase - centre + 0.5, 1.0) - 0.5)
    return np.clip(1.0 - (d / half_width) ** 2, 0.0, 1.0)


def _detached(phase: NDArray[np.float64], _: float) -> NDArray[np.float64]:
    w, s = ECLIPSE_HALF_WIDTH["detached"], SECONDARY_DEPTH["detached"]
    return np.maximum(_eclipse(phase, 0.0, w), s * _eclipse(phase, 0.5, w))


def _beta_lyrae(phase: NDArray[np.float64], _: float) -> NDArray[np.float64]:
    """Ellipsoidal light changes (faintest at conjunctions) plus broad eclipses."""
    w, s = ECLIPSE_HALF_WIDTH["beta_lyrae"], SECONDARY_DEPTH["beta_lyrae"]
    ellipsoidal = (1.0 + np.cos(4 * np.pi * phase)) / 2.0
    eclipses = np.maximum(_eclipse(phase, 0.0, w), s * _eclipse(phase, 0.5, w))
    return 0.4 * ellipsoidal + 0.6 * eclipses


def _w_uma(phase: NDArray[np.float64], _: float) -> NDArray[np.float64]:
    """Continuous light changes with nearly equal minima."""
    unequal = 1.0 - 0.1 * (1.0 - np.cos(2 * np.pi * phase)) / 2.0
    return (1.0 + np.cos(4 * np.pi * phase)) / 2.0 * unequal


def _sinusoid(phase: NDArray[np.float64], _: float) -> NDArray[np.float64]:
    return (1.0 - np.cos(2 * np.pi * phase)) / 2.0


_SHAPES = {
    "sawtooth": _sawtooth,
    "detached": _detached,
    "beta_lyrae": _beta_lyrae,
    "w_uma": _w_uma,
    "sinusoid": _sinusoid,
}


def _transit_mag(
    phase: NDArray[np.float64], depth_mag: float, duration_phase: float
) -> NDArray[np.float64]:
    """Trapezoid in flux: full depth between second and third contact, ingress 12% of it."""
    depth = 1.0 - 10 ** (-0.4 * depth_mag)
    d = np.abs(np.mod(phase + 0.5, 1.0) - 0.5)  # phase distance from mid-transit
    half, ingress = duration_phase / 2.0, 0.12 * duration_phase
    dimming = depth * np.clip((half - d) / ingress, 0.0, 1.0)
    return -2.5 * np.log10(1.0 - dimming)


def _wander(t: NDArray[np.float64], terms: tuple[tuple[float, float, float], ...]) -> NDArray:
    """Smooth, deterministic wandering between 0 and 1."""
    total = sum(w for w, _, _ in terms) or 1.0
    s = sum(w * np.sin(2 * np.pi * t / p + ph) for w, p, ph in terms)
    return np.clip(0.5 + 0.5 * np.asarray(s, dtype=float) / total, 0.0, 1.0)


def _uniforms(name: str, n: int) -> list[float]:
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=4 * n).digest()
    return [int.from_bytes(digest[4 * i : 4 * i + 4], "big") / 2**32 for i in range(n)]


def _between(u: float, bounds: tuple[float, float]) -> float:
    return bounds[0] + u * (bounds[1] - bounds[0])


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _positive(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) and value > 0 else None
