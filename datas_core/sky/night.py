"""Tonight at each site: when the Sun is below a twilight limit, found on a time grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from datas_core.sky.altaz import altaz_of_date_deg
from datas_core.sky.sun import sun_radec_rad

GRID_MINUTES = 5.0


@dataclass(frozen=True)
class Nights:
    """Per site: the dark interval (JD) that contains `jd_ref` or is the next one, NaN if none
    within a day (polar summer); `always_dark` marks polar night (the interval is then the day)."""

    start_jd: NDArray[np.float64]
    end_jd: NDArray[np.float64]
    always_dark: NDArray[np.bool_]

    @property
    def hours(self) -> NDArray[np.float64]:
        return np.nan_to_num((self.end_jd - self.start_jd) * 24.0)


def sun_altitude_grid_deg(
    jd: ArrayLike, latitude_deg: ArrayLike, longitude_deg: ArrayLike
) -> NDArray[np.float64]:
    """Sun altitude for sites (m,) at times (t,): an (m, t) array."""
    jd = np.atleast_1d(np.asarray(jd, dtype=float))
    ra, dec = sun_radec_rad(jd)
    lat = np.asarray(latitude_deg, dtype=float)[:, None]
    lon = np.asarray(longitude_deg, dtype=float)[:, None]
    alt, _ = altaz_of_date_deg(ra[None, :], dec[None, :], lat, lon, jd[None, :])
    return alt


def _crossing(
    jd: NDArray[np.float64],
    alt: NDArray[np.float64],
    i: NDArray[np.intp],
    limit: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Interpolated time where altitude crosses `limit` between grid points i-1 and i."""
    rows = np.arange(len(i))
    a0, a1 = alt[rows, i - 1], alt[rows, i]
    frac = np.clip((limit - a0) / np.where(a1 != a0, a1 - a0, 1.0), 0.0, 1.0)
    return jd[i - 1] + frac * (jd[i] - jd[i - 1])


def tonight(
    jd_ref: float,
    latitude_deg: ArrayLike,
    longitude_deg: ArrayLike,
    sun_limit_deg: ArrayLike = -12.0,
) -> Nights:
    """The current dark interval if it is dark at `jd_ref`, else the next one (within 24 h)."""
    lat = np.atleast_1d(np.asarray(latitude_deg, dtype=float))
    lon = np.atleast_1d(np.asarray(longitude_deg, dtype=float))
    limit = np.broadcast_to(np.asarray(sun_limit_deg, dtype=float), lat.shape)
    steps = int(48 * 60 / GRID_MINUTES)  # two days: a night that starts late still ends inside
    jd = np.asarray(
        jd_ref - 1.0 + np.arange(3 * steps // 2 + 1) * (GRID_MINUTES / 1440.0), dtype=np.float64
    )
    alt = sun_altitude_grid_deg(jd, lat, lon)
    dark = alt < limit[:, None]
    ref = steps // 2  # index of jd_ref
    m = len(lat)
    start = np.full(m, np.nan)
    end = np.full(m, np.nan)
    always = np.asarray(dark.all(axis=1), dtype=bool)
    for_rows = ~always & dark[:, ref:].any(axis=1)
    # Start: if dark at ref, walk back to the last light sample; else the first dark after ref.
    dark_now = dark[:, ref]
    idx = np.arange(jd.size)
    light_before = np.where(~dark & (idx <= ref), idx, -1).max(axis=1)
    first_dark_after = np.where(dark & (idx >= ref), idx, jd.size).min(axis=1)
    s_idx = np.where(dark_now, light_before + 1, first_dark_after)
    ok = for_rows & (s_idx > 0) & (s_idx < jd.size)
    rows = np.flatnonzero(ok)
    start[rows] = _crossing(jd, alt[rows], s_idx[rows], limit[rows])
    # End: the first light sample after the start.
    light_after = np.where(~dark & (idx[None, :] >= s_idx[:, None]), idx, jd.size).min(axis=1)
    ended = ok & (light_after < jd.size)
    rows_e = np.flatnonzero(ended)
    end[rows_e] = _crossing(jd, alt[rows_e], light_after[rows_e], limit[rows_e])
    start[always] = jd_ref
    end[always] = jd_ref + 1.0
    return Nights(start_jd=start, end_jd=end, always_dark=always)


def midnight_longitude_deg(jd: float) -> float:
    """East longitude (-180..180) where it is local midnight at `jd`: the Sun's antimeridian."""
    from datas_core.sky.time import local_sidereal_time_deg

    sun_ra = float(np.degrees(sun_radec_rad(jd)[0]))
    return float((sun_ra + 180.0 - float(local_sidereal_time_deg(jd, 0.0)) + 180.0) % 360 - 180)
