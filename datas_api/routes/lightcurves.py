"""Light curves: JSON rows, or CSV and AAVSO Extended downloads, with BJD_TDB times."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from datas_api.deps import Reader, SessionDep, SettingsDep
from datas_api.params import AfterQuery, BeforeQuery, IdPath, OffsetQuery
from datas_core.lightcurves import LightCurveQuery, load_light_curve, to_aavso, to_csv
from datas_core.schemas.lightcurves import LightCurveFormat, LightCurveOut

router = APIRouter(prefix="/api/v1", tags=["light curves"])

MAX_POINTS = 100_000


def _filename(target_id: int, name: str, extension: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "target"
    return f"lightcurve_{target_id}_{slug}.{extension}"


@router.get(
    "/lightcurve/{target_id}",
    response_model=LightCurveOut,
    summary="A target's light curve: JSON rows, or ?format=csv / ?format=aavso downloads",
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string", "description": "AAVSO Extended"}},
            }
        }
    },
)
def lightcurve(
    target_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    _: Reader,
    format: Annotated[
        LightCurveFormat,
        Query(description="json (rows), csv (download) or aavso (AAVSO Extended File Format)"),
    ] = LightCurveFormat.json,
    filter: Annotated[str | None, Query(max_length=32, description="one filter/band")] = None,
    site_id: Annotated[str | None, Query(max_length=64)] = None,
    after: AfterQuery = None,
    before: BeforeQuery = None,
    good_only: Annotated[
        bool, Query(description="drop points with quality flags (default: keep, flags shown)")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS, description="points per page")] = MAX_POINTS,
    offset: OffsetQuery = 0,
    obscode: Annotated[
        str | None,
        Query(max_length=16, description="AAVSO observer code (default DATAS_AAVSO_OBSCODE)"),
    ] = None,
) -> Any:
    query = LightCurveQuery(
        filter=filter,
        site_id=site_id,
        after=after,
        before=before,
        good_only=good_only,
        limit=limit,
        offset=offset,
    )
    curve = load_light_curve(session, target_id, query)
    if format is LightCurveFormat.json:
        return {
            "target_id": curve.target_id,
            "name": curve.name,
            "ra_deg": curve.ra_deg,
            "dec_deg": curve.dec_deg,
            "filters": curve.filters,
            "rows": curve.rows,
            "total": curve.total,
            "limit": limit,
            "offset": offset,
            "next_offset": curve.next_offset,
        }
    headers = {"X-Total-Count": str(curve.total)}
    if curve.next_offset is not None:
        headers["X-Next-Offset"] = str(curve.next_offset)
    if format is LightCurveFormat.csv:
        body, media, extension = to_csv(curve), "text/csv; charset=utf-8", "csv"
    else:
        body = to_aavso(curve, obscode or settings.aavso_obscode)
        media, extension = "text/plain; charset=utf-8", "txt"
    headers["Content-Disposition"] = (
        f'attachment; filename="{_filename(curve.target_id, curve.name, extension)}"'
    )
    return Response(body, media_type=media, headers=headers)
