"""Light-curve models: each type has its shape, the target's own numbers win, the rest is drawn
from its name (the same every time), and every demo target gets a sane model."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from datas_core.science.variability import model_for

DEMO_TARGETS = Path(__file__).resolve().parents[2] / "datas_core" / "demo" / "targets.csv"


def _cycle(model, n: int = 20_001) -> tuple[np.ndarray, np.ndarray]:
    """Phases 0..1 and the model's dimming over one cycle from its epoch."""
    phase = np.linspace(0.0, 1.0, n)
    return phase, model.delta_mag(model.epoch_jd + phase * model.period_days)


def test_given_period_amplitude_and_epoch_win_and_drawn_ones_are_deterministic() -> None:
    given = model_for(
        "RR Lyr", "variable_star", "RRAB", period_days=0.5668, amplitude_mag=0.9, epoch_jd=2.46e6
    )
    assert (given.period_days, given.amplitude_mag, given.epoch_jd) == (0.5668, 0.9, 2.46e6)
    drawn = model_for("RR Lyr", "variable_star", "RRAB")
    assert drawn == model_for("RR Lyr", "variable_star", "RRAB")  # the same every time
    assert 0.45 <= drawn.period_days <= 0.75 and 0.6 <= drawn.amplitude_mag <= 1.1
    assert model_for("XZ Cyg", "variable_star", "RRAB").period_days != drawn.period_days
    # not finite or not positive: drawn instead
    bad = model_for("RR Lyr", "variable_star", "RRAB", period_days=float("nan"), amplitude_mag=None)
    assert bad.period_days == drawn.period_days


def test_pulsators_rise_fast_and_decline_slowly() -> None:
    model = model_for("RR Lyr", "variable_star", "RRAB", period_days=0.5, amplitude_mag=1.0)
    phase, dm = _cycle(model)
    assert dm[0] == pytest.approx(0.0) and dm.max() == pytest.approx(1.0, abs=1e-3)
    minimum = phase[np.argmax(dm)]
    assert minimum == pytest.approx(0.85, abs=0.01)  # 85% of the cycle fading, 15% rising
    t = model.epoch_jd + np.array([0.1, 0.1 + model.period_days * 7])
    assert model.delta_mag(t)[0] == pytest.approx(model.delta_mag(t)[1])  # periodic


def test_algols_are_flat_between_eclipses_with_a_shallower_secondary() -> None:
    model = model_for("bet Per", "variable_star", "EA/SD", period_days=2.867, amplitude_mag=1.3)
    phase, dm = _cycle(model)
    assert dm[0] == pytest.approx(1.3)  # primary minimum at the epoch
    secondary = dm[np.abs(phase - 0.5) < 0.001].max()
    assert secondary == pytest.approx(0.4 * 1.3, abs=0.01)
    between = (np.abs(phase - 0.25) < 0.15) | (np.abs(phase - 0.75) < 0.15)
    assert np.all(dm[between] == 0.0)


def test_contact_and_beta_lyrae_binaries_vary_all_the_time() -> None:
    for name, cls in (("W UMa", "EW/KW"), ("bet Lyr", "EB")):
        model = model_for(name, "variable_star", cls, amplitude_mag=0.7)
        phase, dm = _cycle(model)
        assert dm[0] == pytest.approx(0.7)
        assert np.count_nonzero(dm > 0.01) > 0.8 * len(dm)  # no flat stretch
        quadrature = dm[np.abs(phase - 0.25) < 0.001]
        assert quadrature.max() < 0.1  # brightest a quarter cycle from the eclipse


def test_miras_are_long_sinusoids_and_irregulars_wander_a_little() -> None:
    mira = model_for("omi Cet", "variable_star", "Mira")
    assert 150 <= mira.period_days <= 450 and 2.5 <= mira.amplitude_mag <= 6.0
    phase, dm = _cycle(mira)
    assert dm[np.argmin(np.abs(phase - 0.5))] == pytest.approx(mira.amplitude_mag)
    irregular = model_for("R CrB", "variable_star", "RCB")
    jd = 2_461_000 + np.linspace(0, 400, 4001)
    wander = irregular.delta_mag(jd)
    assert irregular.shape == "irregular"
    assert wander.min() >= 0.0 and wander.max() <= irregular.amplitude_mag <= 0.3
    assert wander.std() > 0.01  # it does change


def test_a_transit_dims_by_its_depth_for_its_duration_and_not_otherwise() -> None:
    host = model_for(
        "WASP-33", "exoplanet_transit", "transiting_planet_host", period_days=1.22, epoch_jd=2.46e6
    )
    depth = -2.5 * np.log10(1 - 0.01)
    assert host.shape == "transit" and 2 / 24 <= host.duration_days <= 4 / 24
    assert 0.8 * depth <= host.amplitude_mag <= 1.2 * depth
    mid = host.delta_mag(2.46e6 + np.array([0.0, 5 * 1.22]))
    assert mid == pytest.approx([host.amplitude_mag] * 2)
    half = host.duration_days / 2
    outside = 2.46e6 + np.linspace(half + 1e-4, 1.22 - half - 1e-4, 1000)
    assert np.all(host.delta_mag(outside) == 0.0)
    # a host without a known period gets one from its name, 1 to 6 days
    drawn = model_for("HAT-P-7", "exoplanet_transit", "transiting_planet_host")
    assert 1.0 <= drawn.period_days <= 6.0


def test_a_target_without_variability_is_constant() -> None:
    for target_type, cls in (("other", None), (None, None), ("asteroid", "")):
        model = model_for("Z0", target_type, cls)
        assert model.shape == "constant"
        assert np.all(model.delta_mag(2_461_000 + np.arange(10.0)) == 0.0)


def test_every_demo_target_gets_a_sane_model() -> None:
    with DEMO_TARGETS.open() as f:
        rows = list(csv.DictReader(f))
    shapes: dict[str, int] = {}
    for row in rows:
        model = model_for(row["name"], row["target_type"], row["classification"])
        shapes[model.shape] = shapes.get(model.shape, 0) + 1
        assert 0.03 <= model.period_days <= 450, row
        assert 0.0 < model.amplitude_mag <= 6.0, row
        dm = model.delta_mag(2_461_000 + np.linspace(0, 3 * model.period_days, 3001))
        assert np.isfinite(dm).all() and dm.min() >= 0.0 and dm.max() <= model.amplitude_mag + 1e-9
    assert shapes["transit"] == sum(r["target_type"] == "exoplanet_transit" for r in rows)
    assert {"sawtooth", "detached", "sinusoid", "w_uma", "beta_lyrae", "irregular"} <= set(shapes)
