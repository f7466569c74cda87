"""The simulator renders the sky the network asks for: the target at its catalog magnitude,
varying as its type and period say, measured by the agent's own local photometry against the
same synthetic catalog the server uses."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pytest
from astropy.timeseries import LombScargle

from datas_core.science import variability
from datas_core.sky.time import JD_UNIX_EPOCH
from site_agent.devices.base import Devices, Frame, TargetHint
from site_agent.devices.simulator import SimOptions, simulator_devices, target_magnitude
from site_agent.photometry import LocalPhotometry
from site_agent.target_list import read_entry

T0 = datetime(2026, 11, 23, 21, 0, tzinfo=timezone.utc).timestamp()
JD0 = T0 / 86400.0 + JD_UNIX_EPOCH
PHOTOMETRY = LocalPhotometry("synthetic")


class Telescope:
    """Simulated devices with a settable clock: one instance, so every frame has its own noise."""

    def __init__(self, **options: object) -> None:
        self.now = T0
        self.devices: Devices = simulator_devices(
            SimOptions(time_factor=0.0, clock=lambda: self.now, **options)  # type: ignore[arg-type]
        )
        self.devices.mount.unpark()

    def observe(self, hint: TargetHint, when: float, seconds: float) -> tuple[Frame, dict]:
        self.now = when
        self.devices.announce_target(hint)
        self.devices.mount.slew(hint.ra_deg, hint.dec_deg)
        frame = self.devices.camera.expose(seconds, True, "V")
        return frame, PHOTOMETRY.measure(frame, hint.ra_deg, hint.dec_deg)


def _jd_mid(when: float, seconds: float) -> float:
    return (when + seconds / 2) / 86400.0 + JD_UNIX_EPOCH


@pytest.mark.parametrize(
    ("ra", "dec", "mag", "seconds"),
    [
        (120.0, 20.0, 9.0, 5.0),
        (45.0, -30.0, 11.0, 20.0),
        (300.0, 5.0, 13.0, 60.0),
        (200.0, 60.0, 14.5, 120.0),
        (10.0, 10.0, 3.0, 2.0),  # Algol-bright: within range of the 32-bit simulated camera
    ],
)
def test_a_target_is_measured_at_its_catalog_magnitude(
    ra: float, dec: float, mag: float, seconds: float
) -> None:
    frame, measured = Telescope().observe(TargetHint("C", ra, dec, mag), T0, seconds)
    assert frame.header["OBJECT"] == "C" and frame.header["SATURATE"] == 2**31 - 1
    assert measured["quality_flags"] == []
    assert measured["reference_catalog"] == "synthetic@1"
    assert len(measured["comparison_stars"]) >= 3
    assert abs(measured["magnitude"] - mag) < 3 * measured["mag_error"]


def test_a_16_bit_camera_saturates_on_a_bright_target_and_says_so() -> None:
    _, measured = Telescope(adc_bits=16).observe(TargetHint("C", 10.0, 10.0, 3.0), T0, 2.0)
    assert "target_saturated" in measured["quality_flags"]


def test_a_target_without_a_magnitude_is_not_rendered() -> None:
    telescope = Telescope()
    hint = TargetHint("blank", 10.0, 10.0, None)  # no magnitude: nothing to render
    _, measured = telescope.observe(hint, T0, 30.0)
    assert "target_not_detected" in measured["quality_flags"]


def test_a_variable_observed_many_times_gives_back_its_period_and_amplitude() -> None:
    period, amplitude = 0.5668, 0.8
    hint = TargetHint(
        "RR Lyr-like",
        75.01,
        15.005,
        12.0,
        "variable_star",
        "RRAB",
        {"period_days": period, "amplitude_mag": amplitude, "epoch_jd": JD0 + 0.3},
    )
    telescope = Telescope()
    rng = np.random.default_rng(7)
    starts = T0 + np.sort(rng.uniform(0, 5 * 86400, 48))
    jd, mags, errors, truth = [], [], [], []
    for when in starts:
        _, measured = telescope.observe(hint, float(when), 30.0)
        assert measured["quality_flags"] == []
        jd.append(_jd_mid(float(when), 30.0))
        mags.append(measured["magnitude"])
        errors.append(measured["mag_error"])
        truth.append(target_magnitude(hint, jd[-1]))
    t, y, dy = np.array(jd), np.array(mags), np.array(errors)
    # every point is the model's magnitude at mid-exposure, within its error
    assert np.all(np.abs(y - np.array(truth)) < 4 * dy)
    frequency, power = LombScargle(t, y, dy, nterms=3).autopower(
        minimum_frequency=0.5, maximum_frequency=4.0, samples_per_peak=50
    )
    best = 1 / frequency[np.argmax(power)]
    # the amplitude: regress the magnitudes on the type's shape at the recovered period
    shape = variability.model_for(
        hint.name, "variable_star", "RRAB", period_days=best, amplitude_mag=1.0, epoch_jd=JD0 + 0.3
    ).delta_mag(t)
    design = np.column_stack([np.ones_like(t), shape])
    (base, fitted), *_ = np.linalg.lstsq(design / dy[:, None], y / dy, rcond=None)
    print(f"period {best:.5f} d (true {period}), amplitude {fitted:.3f}, maximum {base:.3f}")
    assert abs(best - period) / period < 0.005
    assert abs(fitted - amplitude) < 0.03
    assert abs(base - 12.0) < 0.01  # the catalog magnitude is the maximum light


def test_a_transit_host_dips_by_its_depth_in_transit_and_not_out_of_it() -> None:
    epoch, period = JD0 - 10.5, 2.0
    hint = TargetHint(
        "WASP-like",
        36.7,
        37.5,
        10.0,
        "exoplanet_transit",
        "transiting_planet_host",
        {"period_days": period, "epoch_jd": epoch, "duration_hours": 3.0},
    )
    model = variability.model_for(
        hint.name,
        hint.target_type,
        hint.classification,
        period_days=period,
        epoch_jd=epoch,
        duration_hours=3.0,
    )
    depth = -2.5 * math.log10(1 - 0.01)
    assert model.amplitude_mag == pytest.approx(depth, rel=0.2)  # ~1%, drawn from the name
    mid_unix = (epoch - JD_UNIX_EPOCH + 3 * period) * 86400.0  # a transit three orbits later
    inside = mid_unix + np.linspace(-2400, 2400, 10) - 15  # within +-40 min of mid-transit
    outside = mid_unix + np.linspace(0.25, 0.75, 10) * period * 86400.0
    telescope = Telescope()
    measured = {
        name: np.array([telescope.observe(hint, float(w), 30.0)[1]["magnitude"] for w in times])
        for name, times in (("in", inside), ("out", outside))
    }
    dip = measured["in"].mean() - measured["out"].mean()
    noise = math.hypot(measured["in"].std(ddof=1), measured["out"].std(ddof=1)) / math.sqrt(10)
    print(f"dip {dip:.4f} +- {noise:.4f} mag (model {model.amplitude_mag:.4f})")
    assert abs(dip - model.amplitude_mag) < 3 * noise + 0.001
    assert dip > 5 * noise  # the transit is detected
    assert abs(measured["out"].mean() - 10.0) < 3 * measured["out"].std(ddof=1)
    # out of transit the model is flat: nothing but noise
    assert np.all(model.delta_mag(outside / 86400.0 + JD_UNIX_EPOCH) == 0.0)


def test_an_entry_describes_its_target_and_a_malformed_description_costs_nothing() -> None:
    base = {"target_id": 7, "name": "RR Lyr", "ra_deg": 291.37, "dec_deg": 42.78}
    entry = {
        **base,
        "magnitude": 7.06,
        "target_type": "variable_star",
        "classification": "RRAB",
        "variability": {"period_days": 0.5668, "epoch_jd": 2461000.5, "note": "x"},
    }
    target = read_entry(entry)
    assert (target.magnitude, target.classification) == (7.06, "RRAB")
    assert target.variability == {"period_days": 0.5668, "epoch_jd": 2461000.5}
    assert read_entry(target.as_dict()) == target  # the cached list reads back the same
    odd = read_entry(
        {**base, "magnitude": "bright", "classification": 3, "variability": [1, 2]}
    )  # still observed, just not described
    assert (odd.magnitude, odd.classification, odd.variability) == (None, None, {})
