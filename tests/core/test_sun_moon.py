"""Sun and Moon places against astropy (the oracle): within 0.2 deg, offline."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone

import numpy as np
from astropy import units as u
from astropy.coordinates import AltAz, EarthLocation, get_body, get_sun
from astropy.time import Time

from datas_core.sky.altaz import altaz_of_date_deg
from datas_core.sky.moon import moon_illumination, moon_radec_rad, topocentric_altitude_deg
from datas_core.sky.sun import sun_radec_rad
from datas_core.sky.time import julian_date


def _random_epochs(rng: np.random.Generator, n: int) -> list[datetime]:
    base = datetime(2026, 11, 23, tzinfo=timezone.utc)
    return [base + timedelta(days=float(d)) for d in rng.uniform(-3650, 3650, n)]


def _sites(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.degrees(np.arcsin(rng.uniform(-1, 1, n))), rng.uniform(-180, 180, n)


def test_sun_altitude_within_0_2_deg_of_astropy() -> None:
    rng = np.random.default_rng(7)
    epochs = _random_epochs(rng, 40)
    lat, lon = _sites(rng, 40)
    jd = np.array([float(julian_date(t)) for t in epochs])
    ra, dec = sun_radec_rad(jd)
    alt, az = altaz_of_date_deg(ra, dec, lat, lon, jd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        times = Time(epochs)
        frame = AltAz(obstime=times, location=EarthLocation(lon=lon * u.deg, lat=lat * u.deg))
        ref = get_sun(times).transform_to(frame)
    assert np.abs(alt - ref.alt.deg).max() < 0.2
    daz = (az - ref.az.deg + 180) % 360 - 180
    assert np.abs(daz * np.cos(np.radians(alt))).max() < 0.2


def test_moon_topocentric_altitude_within_0_2_deg_of_astropy() -> None:
    rng = np.random.default_rng(11)
    epochs = _random_epochs(rng, 60)
    lat, lon = _sites(rng, 60)
    jd = np.array([float(julian_date(t)) for t in epochs])
    ra, dec, dist = moon_radec_rad(jd)
    geo_alt, _ = altaz_of_date_deg(ra, dec, lat, lon, jd)
    alt = topocentric_altitude_deg(geo_alt, dist)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        times = Time(epochs)
        loc = EarthLocation(lon=lon * u.deg, lat=lat * u.deg)
        ref = get_body("moon", times, loc).transform_to(AltAz(obstime=times, location=loc))
        geo = get_body("moon", times)
    assert np.abs(alt - ref.alt.deg).max() < 0.2
    assert np.abs(dist - geo.distance.to(u.km).value).max() < 300  # km, of ~384,000


def test_moon_phase_new_and_full() -> None:
    # Full Moon 2026-03-03 11:38 UTC (a total lunar eclipse); new Moon 2026-03-19 01:23 UTC.
    full = julian_date(datetime(2026, 3, 3, 11, 38, tzinfo=timezone.utc))
    new = julian_date(datetime(2026, 3, 19, 1, 23, tzinfo=timezone.utc))
    assert float(moon_illumination(full)) > 0.99
    assert float(moon_illumination(new)) < 0.01
