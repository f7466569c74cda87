"""What a site is told about each served target: score, terms, plan, visibility window."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np

from datas_core.scheduling.assign import Assigned
from datas_core.scheduling.inputs import SiteArrays, TargetArrays
from datas_core.scheduling.plan import exposure_plan
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
        s, t, sin_alt, xyz, targets, ranking.target_terms, sites, ctx, cfg, want_terms=True
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
    pos = 0
    for i, a in enumerate(assigned):
        for j in range(len(a.target_index)):
            k = pos + j
            ti = int(t[k])
            terms = {name: round(float(res.terms[name][k]), 4) for name in TERM_NAMES}
            terms["redundancy"] = round(float(a.redundancy[j]), 4)
            mag = targets.magnitude[ti]
            out[i].append(
                {
                    "_t": ti,
                    "score": round(float(a.score[j]), 4),
                    "terms": terms,
                    "in_slot": bool(a.in_slot[j]),
                    "altitude_deg": round(float(alt[k]), 3),
                    "azimuth_deg": round(float(az[k]), 3),
                    "airmass": round(float(am[k]), 4) if np.isfinite(am[k]) else None,
                    "exposure_plan": exposure_plan(
                        None if np.isnan(mag) else float(mag),
                        None if np.isnan(sites.aperture_mm[i]) else float(sites.aperture_mm[i]),
                        targets.filters[ti],
                        sites.filters[i],
                        targets.exposure_hints[ti],
                    ),
                    "window": {
                        "rise": jd_to_iso(float(win.rise_jd[k])),
                        "set": jd_to_iso(float(win.set_jd[k])),
                        "transit": jd_to_iso(float(win.transit_jd[k])),
                        "max_altitude_deg": round(float(win.max_altitude_deg[k]), 2),
                        "dark_hours": round(float(win.dark_hours[k]), 2),
                    },
                }
            )
        pos += len(a.target_index)
    return out
