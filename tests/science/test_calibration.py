"""Zero point, colour term and ensemble photometry on numbers with a known answer; the VizieR
catalog's on-disk cache (offline), and the live query (remote_data, skipped by default)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from datas_core.science import calibration
from datas_core.science.catalogs import CatalogError, VizierCatalog


def test_zero_point_with_outliers_scatter_and_colour_term() -> None:
    rng = np.random.default_rng(3)
    n = 400
    colour = rng.uniform(-0.2, 1.6, n)
    m_cat = rng.uniform(10, 15, n)
    err = np.full(n, 0.01)
    m_inst = m_cat - (21.5 + 0.08 * colour) + rng.normal(0, 0.01, n) + rng.normal(0, 0.02, n)
    m_inst[:12] -= 0.8  # blends and variables
    zp = calibration.fit_zero_point(m_inst, err, m_cat, colour=colour, colour_index="B-V")
    assert zp is not None and zp.n_rejected >= 12
    assert zp.colour_term == pytest.approx(0.08, abs=0.01)
    at_median = 21.5 + 0.08 * zp.colour_reference
    assert abs(zp.value - at_median) < 3 * zp.error + 0.002
    assert zp.scatter == pytest.approx(0.02, abs=0.005)  # the extra scatter is found
    plain = calibration.fit_zero_point(m_inst, err, m_cat)
    assert plain is not None and plain.colour_term is None and plain.scatter > zp.scatter


def test_ensemble_drops_a_variable_comparison_star() -> None:
    comp_cat = np.array([12.0, 12.5, 13.0, 12.2, 12.8, 13.1])
    comp_inst = comp_cat - 21.0
    comp_inst[2] += 0.5  # a variable among the comparisons
    result = calibration.differential(
        -8.0, 0.01, comp_inst, np.full(6, 0.005), comp_cat, ["a", "b", "c", "d", "e", "f"]
    )
    assert result is not None and "c" not in result.comparison_ids
    assert result.magnitude == pytest.approx(13.0, abs=0.005)


def test_vizier_cache_answers_offline(tmp_path: Path) -> None:
    catalog = VizierCatalog("gaia-dr3", tmp_path)
    cached = tmp_path / "gaia-dr3_10.000_+20.000_0.500.json"
    cached.write_text(
        json.dumps({"ids": ["1"], "ra": [10.0], "dec": [20.0], "mags": {"V": [12.3]}})
    )
    stars = catalog.query(10.0, 20.0, 0.5)  # no network needed: the field was fetched before
    assert stars.ids == ["1"] and stars.mags["V"][0] == 12.3
    with pytest.raises(CatalogError, match="unknown VizieR catalog"):
        VizierCatalog("sdss", tmp_path)


@pytest.mark.remote_data
def test_vizier_gaia_dr3_live(tmp_path: Path) -> None:
    stars = VizierCatalog("gaia-dr3", tmp_path).query(83.82, -5.39, 0.05)
    assert len(stars) > 10 and np.isfinite(stars.mags["V"]).any()
    assert list(tmp_path.glob("gaia-dr3_*.json"))  # cached for the next, offline, time
