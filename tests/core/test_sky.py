"""Vectorized altitude against astropy (the oracle), offline."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone

import numpy as np
from astropy import units as u
from astropy.coordinates import AltAz, EarthLocation, SkyCoord
from astropy.time import Time

from datas_core.sky.altaz import airmass, altaz_deg, horizon_limit_deg


def test_altitude_within_0_05_deg_of_astropy_all_latitudes_and_dates() -> None:
    rng = np.random.default_rng(2026)
    ra = rng.uniform(0, 360, 400)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 400)))
    base = datetime(2026, 11, 23, tzinfo=timezone.utc)
    worst = 0.0
    for _ in range(12):
        lat = float(np.degrees(np.arcsin(rng.uniform(-1, 1))))
        lon = float(rng.uniform(-180, 180))
        when = base + timedelta(days=float(rng.uniform(-3650, 3650)))
        alt, _ = altaz_deg(ra, dec, lat, lon, when)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # old-IERS / dubious-year warnings far from today
            frame = AltAz(
                obstime=Time(when), location=EarthLocation(lon=lon * u.deg, lat=lat * u.deg)
            )
            ref = SkyCoord(ra * u.deg, dec * u.deg).transform_to(frame).alt.deg
        worst = max(worst, float(np.abs(alt - ref).max()))
    assert worst < 0.05, worst


def test_targets_by_sites_broadcast() -> None:
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    ra, dec = np.array([10.0, 200.0, 300.0]), np.array([-20.0, 0.0, 60.0])
    lat, lon = np.array([[50.0], [-30.0]]), np.array([[15.0], [150.0]])
    alt, az = altaz_deg(ra, dec, lat, lon, when)
    assert alt.shape == az.shape == (2, 3)
    single, _ = altaz_deg(ra, dec, -30.0, 150.0, when)
    np.testing.assert_allclose(alt[1], single)


def test_airmass_and_horizon_profile() -> None:
    assert airmass(90.0) == np.float64(1.0) or abs(float(airmass(90.0)) - 1.0) < 1e-3
    assert abs(float(airmass(30.0)) - 1.995) < 0.01
    assert np.isinf(airmass(-1.0))
    limits = horizon_limit_deg([0, 90, 180, 350], 20.0, [[0, 10], [90, 40], [180, 25], [270, 10]])
    np.testing.assert_allclose(limits, [20.0, 40.0, 25.0, 20.0])


def test_astropy_is_configured_offline_and_warns_on_old_tables() -> None:
    import socket

    from astropy.utils import iers
    from astropy.utils.data import conf as data_conf

    from datas_core.sky.astropy_offline import configure_astropy_offline

    configure_astropy_offline()
    assert iers.conf.auto_download is False and data_conf.allow_internet is False

    def no_network(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("astropy tried to reach the network")

    original = socket.socket.connect
    socket.socket.connect = no_network  # type: ignore[method-assign]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            far = Time("2036-06-01T00:00:00")  # beyond the bundled IERS-A predictions
            frame = AltAz(obstime=far, location=EarthLocation(lon=0 * u.deg, lat=45 * u.deg))
            alt = SkyCoord(10 * u.deg, 20 * u.deg).transform_to(frame).alt.deg
        assert np.isfinite(alt)
        assert caught, "an old IERS table should give a warning"
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]
