"""The FastAPI application: `create_app()` wires settings, database and routers together."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from datas_api import dashboard, docs_ui, errors
from datas_api.body_limit import BodySizeLimit
from datas_api.deps import SESSION_COOKIE
from datas_api.guards import RequestGuards
from datas_api.routes import (
    alerts,
    audit,
    auth,
    campaigns,
    frames,
    health,
    lightcurves,
    observations,
    sites,
    targets,
)
from datas_core import __version__
from datas_core.db import make_engine, make_session_factory
from datas_core.services import catalog_version
from datas_core.services.rankings import StoredListsCache
from datas_core.settings import Settings, get_settings
from datas_core.sky.astropy_offline import configure_astropy_offline
from datas_core.storage import StorageError, store_from_settings
from datas_core.ttl_cache import TTLCache

log = logging.getLogger("datas.api")

DESCRIPTION = """
DATAS coordinates a network of small telescopes. Authenticate with
`Authorization: Bearer <api key>` (roles: admin, site, broker, reader) or, for people,
a session cookie from `POST /api/v1/auth/login`. Errors are JSON:
`{"error": code, "message": what to fix, "details": [...]}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_astropy_offline()
    engine = make_engine(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            with app.state.session_factory() as session:
                catalog_version.current(session)
        except SQLAlchemyError as exc:
            log.warning("database not ready (run `datas db upgrade`?): %s", exc)
        store = app.state.object_store
        try:
            await run_in_threadpool(store.check)
            removed = await run_in_threadpool(store.clean_incoming)
            if removed:
                log.info("removed %d partial upload(s) left by an earlier crash", removed)
            log.info("object store: %s", store.describe())
        except StorageError as exc:  # uploads answer 503 with the same advice until it is fixed
            log.error("object store %s is not usable: %s", store.describe(), exc)
        # Modules, models and routes live as long as the process: moving them out of the cyclic
        # GC's reach turns its full passes from ~100 ms into ~1 ms (tail latency).
        gc.collect()
        gc.freeze()
        yield
        engine.dispose()

    app = FastAPI(
        title="DATAS API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from local files by docs_ui
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.version_cache = TTLCache(settings.catalog_recheck_seconds)
    app.state.stored_lists = StoredListsCache(settings.catalog_recheck_seconds)
    # Site geometry changes rarely; 1,000 sites polled every few minutes need a longer life.
    app.state.site_cache = TTLCache(settings.site_cache_seconds)
    app.state.key_cache = TTLCache(settings.auth_cache_seconds)
    errors.install(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        path_limits={"/api/v1/frames": settings.max_frame_bytes},
    )
    # Outermost: refused requests never reach the body reader or a route.
    app.add_middleware(RequestGuards, cookie_name=SESSION_COOKIE, public_url=settings.public_url)
    docs_ui.install(app)
    app.state.object_store = store_from_settings(settings)
    for module in (health, targets, sites, observations, frames, campaigns, alerts, auth):
        app.include_router(module.router)
    app.include_router(lightcurves.router)
    app.include_router(audit.router)
    app.include_router(dashboard.router)

    @app.get("/", include_in_schema=False)
    def index() -> dict[str, Any]:
        return {
            "name": "DATAS",
            "version": __version__,
            "openapi": "/openapi.json",
            "docs": "/docs",
            "health": "/healthz",
        }

    logging.getLogger("datas").setLevel(settings.log_level.upper())
    return app
