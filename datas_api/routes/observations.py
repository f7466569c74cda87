"""Observations: idempotent batch ingest and listing (light curves: routes/lightcurves.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status
from pydantic import TypeAdapter, ValidationError

from datas_api.deps import Reader, SessionDep, SettingsDep, SiteWriter, site_scope
from datas_api.errors import describe_validation
from datas_api.params import AfterQuery, BeforeQuery, IdQuery, OffsetQuery
from datas_core.errors import InvalidInput
from datas_core.schemas.observations import (
    IngestResult,
    ObservationIn,
    ObservationOut,
    ObservationPage,
)
from datas_core.services import observations

router = APIRouter(prefix="/api/v1", tags=["observations"])
_batch = TypeAdapter(list[ObservationIn])
_single = TypeAdapter(ObservationIn)

_BODY_SCHEMA = {
    "oneOf": [
        {"$ref": "#/components/schemas/ObservationIn"},
        {"type": "array", "items": {"$ref": "#/components/schemas/ObservationIn"}},
        {"$ref": "#/components/schemas/ObservationBatch"},
    ]
}


def _parse(payload: Any, max_batch: int) -> tuple[list[ObservationIn], bool]:
    """One record, a JSON array, or {"observations": [...]}; returns (items, was_single)."""
    try:
        if isinstance(payload, list):
            items, single = _batch.validate_python(payload), False
        elif isinstance(payload, dict) and "observations" in payload and len(payload) == 1:
            items, single = _batch.validate_python(payload["observations"]), False
        elif isinstance(payload, dict):
            items, single = [_single.validate_python(payload)], True
        else:
            raise InvalidInput(
                'send one observation object, an array of them, or {"observations": [...]}'
            )
    except ValidationError as exc:
        message, details = describe_validation(list(exc.errors()))
        raise InvalidInput("nothing was stored: " + message, details) from exc
    if not items:
        raise InvalidInput("the batch is empty; send at least one observation")
    if len(items) > max_batch:
        raise InvalidInput(f"a batch holds at most {max_batch} observations (got {len(items)})")
    return items, single


@router.post(
    "/observations",
    response_model=IngestResult | ObservationOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": _BODY_SCHEMA}}}},
    summary="Store one observation or a batch; replays of an observation_id are no-ops",
)
def post_observations(
    payload: Annotated[Any, Body()],
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: SiteWriter,
) -> Any:
    items, single = _parse(payload, settings.max_batch)
    stored, created = observations.ingest(session, items, writer_site_id=site_scope(principal))
    session.commit()
    if created == 0:
        response.status_code = status.HTTP_200_OK
    if single:
        return ObservationOut.model_validate(stored[0])
    return IngestResult(
        created=created,
        replayed=len(stored) - created,
        observations=[ObservationOut.model_validate(o) for o in stored],
    )


@router.get("/observations", response_model=ObservationPage)
def list_observations(
    session: SessionDep,
    _: Reader,
    target_id: IdQuery = None,
    site_id: str | None = None,
    after: AfterQuery = None,
    before: BeforeQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetQuery = 0,
) -> Any:
    page = observations.list_observations(
        session,
        target_id=target_id,
        site_id=site_id,
        after=after,
        before=before,
        limit=limit,
        offset=offset,
    )
    return {
        "observations": [ObservationOut.model_validate(o) for o in page.items],
        **page.info(),
    }
