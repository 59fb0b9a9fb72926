"""The ingest routes: ``POST /v1/events``, the contract's schema, health and metrics.

Everything a route uses arrives as a dependency (:mod:`churnwatch_ingest.deps`); the request body
of ``POST /v1/events`` is read raw (orjson, size-capped) rather than parsed by FastAPI, so its
OpenAPI description is added by ``app.py`` (its ``maxItems`` is the configured ``max_batch``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from churnwatch.events import event_json_schema
from churnwatch_ingest.deps import (
    MaybeServiceDep,
    MetricsDep,
    ServiceDep,
    SettingsDep,
    require_events_write,
)
from churnwatch_ingest.results import EmptyBatch, TooManyEvents, response_body, status_code
from churnwatch_ingest.schemas import Detail, IngestResponse, response_examples

__all__ = ["EVENTS_PATH", "BodyTooLarge", "router"]

EVENTS_PATH = "/v1/events"
_UNAVAILABLE = "Kafka did not acknowledge every event; retry after Retry-After seconds"

router = APIRouter()


class BodyTooLarge(ValueError):
    """The request body exceeds ``max_body_bytes``."""


def _responses() -> dict[int | str, dict[str, Any]]:
    examples = response_examples()
    out: dict[int | str, dict[str, Any]] = {}
    for code, text in [
        (200, "Every event accepted or duplicate"),
        (207, "Some rejected; the others accepted or duplicate"),
        (422, "Every event rejected (an empty array: a `detail` body)"),
        (503, "Not acknowledged by Kafka; see Retry-After"),
    ]:
        out[code] = {
            "description": text,
            "model": IngestResponse,
            "content": {"application/json": {"example": examples[code]}},
        }
    out[413] = {"description": "Too many events or too large a body", "model": Detail}
    out[401] = {"description": "No key, or an unknown or revoked one", "model": Detail}
    out[403] = {"description": "The key lacks the scope events:write", "model": Detail}
    return out


@router.post(
    EVENTS_PATH,
    summary="Publish one event or a batch",
    response_class=Response,
    responses=_responses(),
    dependencies=[Depends(require_events_write)],
)
async def post_events(
    request: Request, service: ServiceDep, settings: SettingsDep, metrics: MetricsDep
) -> Response:
    started = time.perf_counter()
    try:
        body = await read_body(request, settings.max_body_bytes)
        results = await service.ingest(body)
    except (BodyTooLarge, TooManyEvents) as exc:
        return JSONResponse({"detail": str(exc)}, status_code=413)
    except EmptyBatch as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    code = status_code(results)
    headers = {"Retry-After": str(settings.retry_after_s)} if code == 503 else None
    doc = response_body(results, detail=_UNAVAILABLE if code == 503 else None)
    metrics.request_seconds.observe(time.perf_counter() - started)
    return Response(
        orjson.dumps(doc), status_code=code, headers=headers, media_type="application/json"
    )


@router.get("/v1/schema/events", summary="JSON Schema of the event contract")
async def schema() -> dict[str, Any]:
    return event_json_schema()


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Kafka answers metadata and PostgreSQL answers", responses={503: {}})
async def readyz(service: MaybeServiceDep) -> JSONResponse:
    if service is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    checks = {
        "kafka": await _check(service.producer.client.fetch_all_metadata()),
        "database": await _check(service.store.ping()),
    }
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", **checks}, 200 if ready else 503
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def prometheus(metrics: MetricsDep) -> Response:
    return Response(metrics.render(), media_type="text/plain; version=0.0.4")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it grows past ``limit`` (without buffering the rest)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body of {declared} bytes; at most {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _check(probe: Awaitable[Any], timeout: float = 3.0) -> str:
    try:
        await asyncio.wait_for(probe, timeout)
    except Exception as exc:
        return f"unavailable: {exc!r}"[:200]
    return "ok"
