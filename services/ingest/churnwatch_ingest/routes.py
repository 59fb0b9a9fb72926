"""The ingest routes: ``POST /v1/events``, the contract's schema, health and metrics.

Everything a route uses arrives as a dependency (:mod:`churnwatch_ingest.deps`); the request body
of ``POST /v1/events`` is read raw (orjson, size-capped) rather than parsed by FastAPI, so its
OpenAPI description is added by ``app.py`` (its ``maxItems`` is the configured ``max_batch``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from churnwatch.auth import Principal
from churnwatch.events import event_json_schema
from churnwatch_ingest.deps import (
    MaybeServiceDep,
    MetricsDep,
    ServiceDep,
    SettingsDep,
    require_events_write,
    require_read,
)
from churnwatch_ingest.results import (
    DESTRUCTIVE,
    ERASE_SCOPE,
    EmptyBatch,
    ScopeRequired,
    TooManyEvents,
    media_type_error,
    response_body,
    status_code,
)
from churnwatch_ingest.schemas import IngestResponse, ProblemModel, response_examples
from churnwatch_runtime.problems import MEDIA_TYPE, Problem, problem_body

__all__ = ["EVENTS_PATH", "BodyTooLarge", "router"]

EVENTS_PATH = "/v1/events"
_UNAVAILABLE = "Kafka did not acknowledge every event; retry after Retry-After seconds"

router = APIRouter()


class BodyTooLarge(ValueError):
    """The request body exceeds ``max_body_bytes``."""


def _responses() -> dict[int | str, dict[str, Any]]:
    examples = response_examples()
    out: dict[int | str, dict[str, Any]] = {}
    for code, text, media in [
        (200, "Every event accepted or duplicate", "application/json"),
        (207, "Some rejected; the others accepted or duplicate", "application/json"),
        (422, "Every event rejected: a problem document with the per-event results", MEDIA_TYPE),
        (503, "Not acknowledged by Kafka; see Retry-After", MEDIA_TYPE),
    ]:
        out[code] = {
            "description": text,
            "model": IngestResponse,
            "content": {media: {"example": examples[code]}},
        }
    for code, text in [
        (401, "No key, or an unknown or revoked one"),
        (403, "The key lacks events:write, or events:erase for a customer_erased event"),
        (413, "Too many events or too large a body"),
        (415, "Not application/json (in UTF-8)"),
    ]:
        out[code] = {"description": text, "model": ProblemModel, "content": {MEDIA_TYPE: {}}}
    return out


@router.post(
    EVENTS_PATH,
    summary="Publish one event or a batch",
    response_class=Response,
    responses=_responses(),
)
async def post_events(
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    who: Annotated[Principal | None, Depends(require_events_write)],
) -> Response:
    started = time.perf_counter()
    refused = media_type_error(request.headers.get("content-type"))
    if refused is not None:
        raise Problem(415, detail=refused)
    may_erase = who is None or who.allows(ERASE_SCOPE)  # None: CW_INGEST_AUTH=off
    try:
        body = await read_body(request, settings.max_body_bytes)
        results = await service.ingest(body, guarded=frozenset() if may_erase else DESTRUCTIVE)
    except (BodyTooLarge, TooManyEvents) as exc:
        raise Problem(413, "Content Too Large", str(exc)) from None
    except EmptyBatch as exc:
        errors = [{"field": "body", "code": "empty_batch", "message": str(exc)}]
        raise Problem(422, "Invalid request", str(exc), errors=errors) from None
    except ScopeRequired as exc:
        raise Problem(
            403,
            detail=str(exc),
            missing_scopes=[exc.scope],
            event_type=exc.event_type,
            index=exc.index,
        ) from None
    code = status_code(results)
    headers = {"Retry-After": str(settings.retry_after_s)} if code == 503 else None
    doc = response_body(results, detail=_UNAVAILABLE if code == 503 else None)
    metrics.request_seconds.observe(time.perf_counter() - started)
    if code < 400:
        return Response(
            orjson.dumps(doc), status_code=code, headers=headers, media_type="application/json"
        )
    # every failure is a problem document; the per-event results ride along as extra members
    title, detail = _FAILED[code]
    problem = problem_body(code, title, doc.pop("detail", None) or detail, request.url.path)
    return Response(
        orjson.dumps({**problem, **doc}), status_code=code, headers=headers, media_type=MEDIA_TYPE
    )


_FAILED = {
    422: ("Every event rejected", "no event was accepted; see results[].errors"),
    503: ("Service Unavailable", _UNAVAILABLE),
}


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


@router.get(
    "/metrics",
    summary="Prometheus metrics (a key with read)",
    response_class=Response,
    dependencies=[Depends(require_read)],
)
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
