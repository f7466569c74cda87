"""Each target's visibility window tonight from each site, in closed form.

Above the altitude limit `h` means cos(H) >= c with c = (sin h - sin(lat) sin(dec)) /
(cos(lat) cos(dec)), i.e. |H| <= arccos(c): an interval of hour angle around transit, cut by the
site's hour-angle limits, mapped to time through the sidereal rate and intersected with the dark
interval. No time sampling, so it costs the same for any night length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from datas_core.sky.time import local_sidereal_time_deg

SIDEREAL_RAD_PER_DAY = 2.0 * np.pi * 1.00273781191135448


@dataclass(frozen=True)
class Windows:
    """Arrays broadcast over (sites, targets); times are JD, NaN where there is no window."""

    rise_jd: NDArray[np.float64]  # start of the observable part of tonight
    set_jd: NDArray[np.float64]  # end of it
    transit_jd: NDArray[np.float64]  # the meridian transit nearest the middle of the night
    max_altitude_deg: NDArray[np.float64]  # at transit (geometric)

    @property
    def dark_hours(self) -> NDArray[np.float64]:
        return np.nan_to_num((self.set_jd - self.rise_jd) * 24.0)

    @property
    def observable(self) -> NDArray[np.bool_]:
        return self.dark_hours > 0


def hour_angle_half_width_rad(
    sin_dec: ArrayLike, cos_dec: ArrayLike, latitude_deg: ArrayLike, limit_deg: ArrayLike
) -> NDArray[np.float64]:
    """Half-width in hour angle of the time above `limit_deg`: 0 if never, pi if always."""
    lat = np.radians(np.asarray(latitude_deg, dtype=float))
    sin_h = np.sin(np.radians(np.asarray(limit_deg, dtype=float)))
    denom = np.cos(lat) * np.asarray(cos_dec, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (sin_h - np.sin(lat) * np.asarray(sin_dec, dtype=float)) / denom
    # At a pole or for a polar target the altitude does not change: always or never above.
    c = np.where(np.abs(denom) < 1e-12, np.where(c <= 0, -2.0, 2.0), c)
    c = np.nan_to_num(c, nan=2.0, posinf=2.0, neginf=-2.0)
    return np.arccos(np.clip(c, -1.0, 1.0))


def windows_tonight(
    ra_rad: ArrayLike,
    sin_dec: ArrayLike,
    cos_dec: ArrayLike,
    latitude_deg: ArrayLike,
    longitude_deg: ArrayLike,
    limit_deg: ArrayLike,
    night_start_jd: ArrayLike,
    night_end_jd: ArrayLike,
    ha_east_h: ArrayLike = 12.0,
    ha_west_h: ArrayLike = 12.0,
) -> Windows:
    """Positions of date (ra, sin/cos dec) against sites; every argument broadcasts.

    Of the three transits around the night (previous, nearest, next) the one whose window
    overlaps the night most is reported: a long polar night can see a target set and rise again.
    """
    ra = np.asarray(ra_rad, dtype=float)
    start = np.asarray(night_start_jd, dtype=float)
    end = np.asarray(night_end_jd, dtype=float)
    mid = 0.5 * (start + end)
    half = hour_angle_half_width_rad(sin_dec, cos_dec, latitude_deg, limit_deg)
    east = np.minimum(half, np.radians(np.asarray(ha_east_h, dtype=float) * 15.0))
    west = np.minimum(half, np.radians(np.asarray(ha_west_h, dtype=float) * 15.0))
    ha_mid = np.radians(local_sidereal_time_deg(np.nan_to_num(mid), longitude_deg)) - ra
    ha_mid = (ha_mid + np.pi) % (2.0 * np.pi) - np.pi
    transit0 = mid - ha_mid / SIDEREAL_RAD_PER_DAY
    always = half >= np.pi - 1e-12
    best_rise = best_set = best_transit = best_len = np.zeros(0)
    for k in (-1, 0, 1):
        transit = transit0 + k * (2.0 * np.pi / SIDEREAL_RAD_PER_DAY)
        rise = np.where(always, start, np.maximum(start, transit - east / SIDEREAL_RAD_PER_DAY))
        sets = np.where(always, end, np.minimum(end, transit + west / SIDEREAL_RAD_PER_DAY))
        length = np.where((half > 0) & (sets > rise), sets - rise, 0.0)
        if k == -1:
            best_rise, best_set, best_transit, best_len = rise, sets, transit, length
        else:
            better = length > best_len
            best_rise = np.where(better, rise, best_rise)
            best_set = np.where(better, sets, best_set)
            best_transit = np.where(better, transit, best_transit)
            best_len = np.where(better, length, best_len)
    none = ~(best_len > 0)
    lat = np.radians(np.asarray(latitude_deg, dtype=float))
    sin_max = np.sin(lat) * np.asarray(sin_dec) + np.cos(lat) * np.asarray(cos_dec)
    return Windows(
        rise_jd=np.where(none, np.nan, best_rise),
        set_jd=np.where(none, np.nan, best_set),
        transit_jd=np.asarray(best_transit, dtype=float),
        max_altitude_deg=np.degrees(np.arcsin(np.clip(sin_max, -1.0, 1.0))),
    )
