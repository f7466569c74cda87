"""Cone search (HEALPix ranges + unit vectors) equals brute force, at RA 0/360 and the poles."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy.orm import Session

from datas_core.schemas.targets import TargetCreate
from datas_core.services.targets import cone_search, create_targets
from datas_core.sky.healpix import cone_ranges, healpix_index
from datas_core.sky.vectors import angular_separation_deg

CENTRES = [(0.0, 0.0), (359.99, 12.0), (0.01, -30.0), (180.0, 89.99), (42.0, -89.95), (90.0, 45.0)]


def _cluster(rng: np.random.Generator, ra0: float, dec0: float, spread: float, n: int):
    ra = (ra0 + rng.uniform(-spread, spread, n) / max(np.cos(np.radians(dec0)), 0.01)) % 360.0
    dec = np.clip(dec0 + rng.uniform(-spread, spread, n), -90, 90)
    return ra, dec


def test_ranges_cover_every_point_in_the_cone() -> None:
    rng = np.random.default_rng(3)
    for ra0, dec0 in CENTRES:
        for radius in (1 / 3600, 30 / 3600, 0.5, 5.0):
            ra, dec = _cluster(rng, ra0, dec0, radius * 1.5, 4000)
            inside = angular_separation_deg(ra0, dec0, ra, dec) <= radius
            pix = healpix_index(ra, dec)
            ranges = np.array(cone_ranges(ra0, dec0, radius))
            covered = ((pix[:, None] >= ranges[:, 0]) & (pix[:, None] <= ranges[:, 1])).any(axis=1)
            assert covered[inside].all(), (ra0, dec0, radius)
            assert len(ranges) <= 64


def test_cone_search_matches_brute_force(session: Session) -> None:
    rng = np.random.default_rng(11)
    ras, decs = [], []
    for ra0, dec0 in CENTRES:
        ra, dec = _cluster(rng, ra0, dec0, 0.05, 150)
        ras.append(ra)
        decs.append(dec)
    ra = np.concatenate(ras)
    dec = np.concatenate(decs)
    items = [
        TargetCreate(name=f"P{i}", ra_deg=float(r), dec_deg=float(d))
        for i, (r, d) in enumerate(zip(ra, dec, strict=True))
    ]
    created = create_targets(session, items)
    session.commit()
    ids = np.array([t.target_id for t in created])
    for ra0, dec0 in CENTRES:
        for radius in (10 / 3600, 60 / 3600, 0.03):
            sep = angular_separation_deg(ra0, dec0, ra, dec)
            expected = set(ids[sep <= radius].tolist())
            got = cone_search(session, ra0, dec0, radius, limit=10_000)
            assert {t.target_id for t, _ in got} == expected, (ra0, dec0, radius)
            seps = [s for _, s in got]
            assert seps == sorted(seps)
            for t, s in got:
                assert s == pytest.approx(
                    float(angular_separation_deg(ra0, dec0, t.ra_deg, t.dec_deg)) * 3600, abs=1e-3
                )


def test_cone_search_rejects_bad_radius(session: Session) -> None:
    from datas_core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="radius"):
        cone_search(session, 10, 10, 0)
