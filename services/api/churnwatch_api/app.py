"""The API app: wiring only. The engine is created in the lifespan and kept on ``app.state``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from churnwatch_api import problems
from churnwatch_api.inputs import refuse_nul
from churnwatch_api.metrics import ApiMetrics, MetricsMiddleware
from churnwatch_api.ratelimit import RateLimiter
from churnwatch_api.routes import ROUTERS
from churnwatch_api.settings import ApiSettings
from churnwatch_runtime.auth import Authenticator
from churnwatch_runtime.db import make_engine
from churnwatch_runtime.docs import mount_docs

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
_DESCRIPTION = """\
The save team's queue, the customer single view, the at-risk list, KPIs and model quality.

**Authentication**: `Authorization: Bearer <key>` (keys from `churnwatch keys create`), or the
dashboard's session cookie from `POST /v1/session`. Each route names the scope it needs
(`admin` implies all). **Errors** are RFC 9457 problem details (`application/problem+json`).
See docs/api.md.
"""


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """The API; its lifespan opens the database engine and the key verifier."""
    settings = settings or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        app.state.engine = engine
        app.state.auth = Authenticator(engine, ttl_s=settings.auth_cache_ttl_s)
        log.info("api ready", extra={"port": settings.port})
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="churnwatch API",
        version="1",
        description=_DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul)],  # text PostgreSQL cannot store: 422, not a 500
        docs_url=None,  # served from the package's own assets (no CDN): mount_docs
        redoc_url=None,
    )
    metrics = ApiMetrics()
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    problems.install(app)
    mount_docs(app)
    for router in ROUTERS:
        app.include_router(router)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if settings.cors_origins:  # closed unless origins are configured
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
