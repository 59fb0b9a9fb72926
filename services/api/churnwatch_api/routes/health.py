"""Liveness, readiness (no key needed: orchestrators probe them) and Prometheus metrics."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from churnwatch.auth import Principal
from churnwatch_api.deps import EngineDep, require
from churnwatch_api.problems import problem_responses

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="PostgreSQL answers",
    responses={503: {"description": "PostgreSQL did not answer"}},
)
async def readyz(engine: EngineDep) -> JSONResponse:
    try:
        async with asyncio.timeout(3):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status_code=503
        )
    return JSONResponse({"status": "ready", "database": "ok"})


@router.get(
    "/metrics",
    summary="Prometheus metrics (scope `read`)",
    response_class=Response,
    responses=problem_responses(401, 403, 429),
)
async def metrics(request: Request, _: Annotated[Principal, Depends(require("read"))]) -> Response:
    return Response(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4")
