"""The audit log of admin actions (admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict

from datas_api.deps import Admin, SessionDep
from datas_api.params import AfterQuery, BeforeQuery, OffsetQuery
from datas_core.schemas.common import PageInfo
from datas_core.services import audit


async def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"  # names, addresses: keep out of caches


router = APIRouter(prefix="/api/v1", tags=["audit"], dependencies=[Depends(_no_store)])


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    actor_name: str | None = None
    actor_role: str | None = None
    action: str
    object_type: str
    object_id: str | None = None
    detail: dict[str, Any]
    source: str


class AuditPage(PageInfo):
    entries: list[AuditEntryOut]


@router.get("/audit", response_model=AuditPage, summary="Admin actions, newest first")
def list_audit(
    session: SessionDep,
    _: Admin,
    actor: Annotated[
        str | None, Query(max_length=200, description="'key:<key_id>', 'user:<id>' or a name")
    ] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. key.create")] = None,
    object_type: Annotated[str | None, Query(max_length=32, description="e.g. site")] = None,
    after: AfterQuery = None,
    before: BeforeQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: OffsetQuery = 0,
) -> Any:
    page = audit.list_entries(
        session,
        actor=actor,
        action=action,
        object_type=object_type,
        after=after,
        before=before,
        limit=limit,
        offset=offset,
    )
    return {"entries": [AuditEntryOut.model_validate(e) for e in page.items], **page.info()}
