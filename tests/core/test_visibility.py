"""Nights and visibility windows against a fine time grid and astropy."""

from __future__ import annotations

import warnings
from datetime import datetime, timezone

import numpy as np
from astropy import units as u
from astropy.coordinates import AltAz, EarthLocation, get_sun
from astropy.time import Time

from datas_core.sky.altaz import ApparentPlaces
from datas_core.sky.night import tonight
from datas_core.sky.time import JD_UNIX_EPOCH, julian_date
from datas_core.sky.visibility import windows_tonight

REF = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def _dt(jd: float) -> datetime:
    return datetime.fromtimestamp((jd - JD_UNIX_EPOCH) * 86400.0, tz=timezone.utc)


def test_night_edges_are_where_astropy_puts_the_sun_at_minus_12() -> None:
    lat = np.array([49.9, -31.3, 19.8, -70.0, 0.0, 78.2])
    lon = np.array([14.8, 149.1, -155.5, -70.0, 0.0, 15.6])
    nights = tonight(float(julian_date(REF)), lat, lon, -12.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(len(lat)):
            loc = EarthLocation(lat=lat[i] * u.deg, lon=lon[i] * u.deg)
            for jd in (nights.start_jd[i], nights.end_jd[i]):
                if not np.isfinite(jd) or nights.always_dark[i]:
                    continue
                t = Time(jd, format="jd")
                alt = get_sun(t).transform_to(AltAz(obstime=t, location=loc)).alt.deg
                assert abs(alt + 12.0) < 0.15, (i, alt)
    # -70 deg in late November: the Sun never gets 12 deg below the horizon.
    assert np.isnan(nights.start_jd[3])
    assert nights.hours[0] > 12 and nights.hours[4] > 9


def test_windows_match_a_one_minute_altitude_grid() -> None:
    rng = np.random.default_rng(3)
    n = 300
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    ra[:3], dec[:3] = [0.0, 359.9999, 123.0], [90.0, -90.0, 0.0]  # poles and RA wrap
    lat, lon, limit = 49.9, 14.8, 25.0
    jd_ref = float(julian_date(REF))
    night = tonight(jd_ref, [lat], [lon], -12.0)
    places = ApparentPlaces.of(ra, dec, REF)
    win = windows_tonight(
        places.ra_rad,
        places.sin_dec,
        places.cos_dec,
        lat,
        lon,
        limit,
        night.start_jd[0],
        night.end_jd[0],
    )
    grid = np.arange(night.start_jd[0], night.end_jd[0], 1 / 1440.0)
    alt = np.stack([places.altitude_deg(lat, lon, _dt(jd)) for jd in grid])  # (t, n)
    up = alt >= limit
    for i in range(n):
        if not up[:, i].any():
            assert not win.observable[i], i
            continue
        assert win.observable[i], i
        first = grid[np.argmax(up[:, i])]
        last = grid[len(grid) - 1 - np.argmax(up[::-1, i])]
        # The reported window is the longest stretch; the grid's first/last agree unless the
        # target sets and rises again within the night (then the window is one of the two).
        if up[:, i].sum() == round((last - first) * 1440) + 1:
            assert abs(win.rise_jd[i] - first) * 1440 < 2.0, i
            assert abs(win.set_jd[i] - last) * 1440 < 2.0, i
    # The north celestial pole is circumpolar at +49.9: up all night at altitude ~ latitude.
    assert abs(win.dark_hours[0] - night.hours[0]) < 1e-6
    assert abs(win.max_altitude_deg[0] - lat) < 0.5
    assert not win.observable[1]  # the south pole never rises
