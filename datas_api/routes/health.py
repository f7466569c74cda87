"""Liveness/readiness and a small Prometheus-style metrics page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import func, select, text

from datas_api.deps import SessionDep
from datas_core import __version__
from datas_core.db.models import Observation, Site, Target

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request, session: SessionDep) -> Any:
    try:
        session.execute(text("SELECT 1"))
        db = "ok"
    except Exception as exc:  # the point of a health check is to report, not to raise
        db = f"error: {type(exc).__name__}"
    backend = request.app.state.engine.dialect.name
    body = {
        "status": "ok" if db == "ok" else "degraded",
        "version": __version__,
        "database": db,
        "backend": backend,
        # Where objects live is for operators (`datas` CLI, logs), not for anyone who asks.
        "storage": request.app.state.object_store.describe().split(":", 1)[0],
    }
    return JSONResponse(body, status_code=200 if db == "ok" else 503)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(session: SessionDep) -> str:
    counts = {
        "datas_targets_active": select(func.count()).where(Target.active.is_(True)),
        "datas_sites": select(func.count()).select_from(Site),
        "datas_observations": select(func.count()).select_from(Observation),
    }
    lines = []
    for name, stmt in counts.items():
        lines += [f"# TYPE {name} gauge", f"{name} {session.scalar(stmt) or 0}"]
    return "\n".join(lines) + "\n"
