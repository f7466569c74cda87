"""What a site is told about each served target: score, terms, plan, visibility window."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np

from datas_core.scheduling.assign import Assigned
from datas_core.scheduling.inputs import SiteArrays, TargetArrays
from datas_core.scheduling.plan import (
    DEFAULT_COUNT,
    choose_filter,
    exposure_plan,
    exposure_seconds,
)
from datas_core.scheduling.rank import NetworkRanking, pair_sin_altitude
from datas_core.scheduling.terms import TERM_NAMES, evaluate_pairs
from datas_core.sky.altaz import airmass
from datas_core.sky.night import tonight
from datas_core.sky.time import JD_UNIX_EPOCH
from datas_core.sky.visibility import windows_tonight


def jd_to_iso(jd: float) -> str | None:
    if not np.isfinite(jd):
        return None
    when = datetime.fromtimestamp((jd - JD_UNIX_EPOCH) * 86400.0, tz=timezone.utc)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def site_entries(
    ranking: NetworkRanking,
    assigned: list[Assigned],
    targets: TargetArrays,
    sites: SiteArrays,
) -> list[list[dict[str, Any]]]:
    """For every site, its entries in served order (target index under key `_t`)."""
    s = np.concatenate(
        [np.full(len(a.target_index), i, np.intp) for i, a in enumerate(assigned)]
        + [np.zeros(0, np.intp)]
    )
    t = np.concatenate([a.target_index for a in assigned] + [np.zeros(0, np.intp)])
    out: list[list[dict[str, Any]]] = [[] for _ in assigned]
    if not len(s):
        return out
    cfg, ctx, xyz = ranking.config, ranking.context, ranking.xyz_of_date
    sin_alt = pair_sin_altitude(ctx, xyz, s, t)
    res = evaluate_pairs(
        s,
        t,
        sin_alt,
        xyz,
        targets,
        ranking.target_terms,
        sites,
        ctx,
        cfg,
        recent=ranking.recent_mask(s, t),
        want_terms=True,
    )
    assert res.terms is not None
    alt = np.degrees(np.arcsin(np.clip(sin_alt[0].astype(float), -1, 1)))
    east = ctx.east[s, 0]
    north = np.cross(ctx.up[s, 0], east)
    az = np.degrees(np.arctan2((xyz[t] * east).sum(-1), (xyz[t] * north).sum(-1))) % 360.0
    nights = tonight(ranking.jd, sites.latitude, sites.longitude, cfg.sun_limit_deg)
    ra_date = np.arctan2(xyz[t, 1], xyz[t, 0])
    sin_dec = np.clip(xyz[t, 2], -1, 1)
    win = windows_tonight(
        ra_date,
        sin_dec,
        np.sqrt(1 - sin_dec**2),
        sites.latitude[s],
        sites.longitude[s],
        sites.altitude_limit_deg[s],
        nights.start_jd[s],
        nights.end_jd[s],
        sites.ha_east_h[s],
        sites.ha_west_h[s],
    )
    am = airmass(alt)
    # Everything per entry is computed as arrays first: the loop below only assembles dicts.
    term_rows = np.round(
        np.stack([res.terms[name] for name in TERM_NAMES], axis=1).astype(float), 4
    ).tolist()
    alt_l = np.round(alt, 3).tolist()
    az_l = np.round(az, 3).tolist()
    am_l = [None if not np.isfinite(x) else round(float(x), 4) for x in am.tolist()]
    rise_l, set_l, transit_l = (
        jd_to_iso_array(x) for x in (win.rise_jd, win.set_jd, win.transit_jd)
    )
    maxalt_l = np.round(win.max_altitude_deg, 2).tolist()
    dark_l = np.round(win.dark_hours, 2).tolist()
    exposure_l = np.round(exposure_seconds(targets.magnitude[t], sites.aperture_mm[s]), 1)
    exposure_l = exposure_l.tolist()
    pos = 0
    for i, a in enumerate(assigned):
        redundancy = np.round(a.redundancy, 4).tolist()
        scores = np.round(a.score, 4).tolist()
        slot = a.in_slot.tolist()
        for j in range(len(a.target_index)):
            k = pos + j
            ti = int(t[k])
            terms = dict(zip(TERM_NAMES, term_rows[k], strict=True))
            terms["redundancy"] = redundancy[j]
            hints = targets.exposure_hints[ti]
            plan = (
                exposure_plan(
                    _mag(targets, ti),
                    _aperture(sites, i),
                    targets.filters[ti],
                    sites.filters[i],
                    hints,
                )
                if hints
                else {
                    "filter": choose_filter(targets.filters[ti], sites.filters[i]),
                    "exposure_sec": exposure_l[k],
                    "count": DEFAULT_COUNT,
                }
            )
            out[i].append(
                {
                    "_t": ti,
                    "score": scores[j],
                    "terms": terms,
                    "in_slot": slot[j],
                    "altitude_deg": alt_l[k],
                    "azimuth_deg": az_l[k],
                    "airmass": am_l[k],
                    "exposure_plan": plan,
                    "window": {
                        "rise": rise_l[k],
                        "set": set_l[k],
                        "transit": transit_l[k],
                        "max_altitude_deg": maxalt_l[k],
                        "dark_hours": dark_l[k],
                    },
                }
            )
        pos += len(a.target_index)
    return out


def _mag(targets: TargetArrays, ti: int) -> float | None:
    mag = float(targets.magnitude[ti])
    return None if np.isnan(mag) else mag


def _aperture(sites: SiteArrays, i: int) -> float | None:
    ap = float(sites.aperture_mm[i])
    return None if np.isnan(ap) else ap


def jd_to_iso_array(jd: np.ndarray) -> list[str | None]:
    """ISO 8601 UTC strings (seconds) for an array of JDs; None where NaN."""
    jd = np.asarray(jd, dtype=float)
    ok = np.isfinite(jd)
    seconds = np.where(ok, np.round((jd - JD_UNIX_EPOCH) * 86400.0), 0).astype("int64")
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return [f"{x}Z" if good else None for x, good in zip(text.tolist(), ok.tolist(), strict=True)]
