"""The data-quality report of the site-nights some targets were observed in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from datas_core.lightcurves.nights import night_sample
from datas_core.lightcurves.quality import (
    FlaggedNight,
    ZeroPointNight,
    flagged_share,
    zero_point_scatter,
)


@dataclass(frozen=True)
class QualityReport:
    zero_points: list[ZeroPointNight]
    flagged: list[FlaggedNight]
    max_scatter_mag: float
    max_flagged_share: float

    def zero_point_table(self) -> str:
        lines = [
            "| site | night | filter | n | median zp | robust std | over limit |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {z.site_id} | {z.night} | {z.filter} | {z.n} | {z.median:.3f} | "
            f"{z.robust_std:.3f} | {'yes' if z.exceeds else ''} |"
            for z in self.zero_points
        ]
        return "\n".join(lines)

    def flagged_table(self) -> str:
        lines = ["| site | night | n | flagged | share | over limit |", "|---|---|---|---|---|---|"]
        lines += [
            f"| {f.site_id} | {f.night} | {f.n} | {f.flagged} | {f.share:.2f} | "
            f"{'yes' if f.exceeds else ''} |"
            for f in self.flagged
        ]
        return "\n".join(lines)


def quality_report(
    session: Session, target_ids: Iterable[int], max_scatter_mag: float, max_flagged_share: float
) -> QualityReport:
    sample = night_sample(session, target_ids)
    return QualityReport(
        zero_points=zero_point_scatter(
            sample.site_id, sample.night, sample.filter, sample.zero_point, max_scatter_mag
        ),
        flagged=flagged_share(sample.site_id, sample.night, sample.flagged, max_flagged_share),
        max_scatter_mag=max_scatter_mag,
        max_flagged_share=max_flagged_share,
    )
