"""Alerts pushed by broker bots."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from datas_api.deps import AlertWriter, SessionDep
from datas_core.schemas.alerts import AlertIn, AlertResult
from datas_core.services import alerts

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@router.post("", response_model=AlertResult, status_code=status.HTTP_201_CREATED)
def post_alert(body: AlertIn, response: Response, session: SessionDep, _: AlertWriter) -> Any:
    result = alerts.ingest_alert(session, body)
    session.commit()
    if result.status != "created":
        response.status_code = status.HTTP_200_OK
    return result
