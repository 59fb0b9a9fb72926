"""The FastAPI app: wiring only. Clients and the engine are created in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response

from churnwatch.events import ValidationLimits, event_json_schema
from churnwatch_ingest.config import IngestSettings
from churnwatch_ingest.dedup import DedupStore, purge_forever
from churnwatch_ingest.metrics import IngestMetrics
from churnwatch_ingest.raw import run_raw_validator
from churnwatch_ingest.results import EmptyBatch, TooManyEvents, response_body, status_code
from churnwatch_ingest.schemas import (
    Detail,
    IngestResponse,
    event_components,
    request_examples,
    request_schema,
    response_examples,
)
from churnwatch_ingest.service import IngestService
from churnwatch_runtime.kafka import ensure_topics, make_producer

log = logging.getLogger(__name__)

_UNAVAILABLE = "Kafka did not acknowledge every event; retry after Retry-After seconds"
_DESCRIPTION = """\
Events in, one or a batch. Each event gets its own result; **2xx only after Kafka acknowledged
every accepted event**. `event_id` is the idempotency key: a re-sent event is a `duplicate`.

| status | when |
|---|---|
| 200 | nothing rejected (accepted and/or duplicates) |
| 207 | some rejected, some accepted or duplicate: the good ones **are** published |
| 422 | every event rejected, or an empty array |
| 413 | more than `max_batch` events, or a body larger than `max_body_bytes` |
| 503 | Kafka (or the idempotency store) did not answer; `Retry-After` is set. Events marked \
`accepted` are published; those marked `unavailable` are not: re-send the request |
"""


class BodyTooLarge(ValueError):
    """The request body exceeds ``max_body_bytes``."""


def create_app(settings: IngestSettings, *, run_raw: bool = False) -> FastAPI:
    """The ingest app; with ``run_raw`` its lifespan also runs the Kafka-native validator."""
    metrics = IngestMetrics()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        topics = settings.topics
        if settings.create_topics:
            await ensure_topics(
                settings.kafka_bootstrap,
                [topics.events, topics.events_raw, topics.events_dlq],
                partitions=settings.topic_partitions,
            )
        producer = make_producer(
            settings.kafka_bootstrap,
            linger_ms=settings.producer_linger_ms,
            request_timeout_ms=settings.producer_request_timeout_ms,
        )
        store = await DedupStore.connect(settings.database_url, size=settings.db_pool_size)
        try:
            await producer.start()
        except BaseException:
            await store.close()
            raise
        state["service"] = IngestService(
            producer=producer,
            store=store,
            metrics=metrics,
            topic=topics.events,
            limits=ValidationLimits(
                max_bytes=settings.max_event_bytes, max_future=settings.max_future
            ),
            max_batch=settings.max_batch,
            publish_timeout=settings.publish_timeout_s,
        )
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(
                purge_forever(
                    store,
                    window=settings.dedup_window,
                    interval=settings.dedup_purge_interval_s,
                )
            )
        ]
        if run_raw:
            raw = asyncio.create_task(
                run_raw_validator(settings, stop, metrics=metrics, purge=False)
            )
            raw.add_done_callback(_log_crash)
            tasks.append(raw)
        log.info("ingest ready", extra={"topic": topics.events, "raw": run_raw})
        try:
            yield
        finally:
            stop.set()
            for task in tasks[:1]:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await producer.stop()
            await store.close()

    app = FastAPI(
        title="churnwatch ingest",
        version="1",
        description=_DESCRIPTION,
        lifespan=lifespan,
    )

    @app.post(
        "/v1/events",
        summary="Publish one event or a batch",
        response_class=Response,
        responses=_responses(),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": request_schema(settings.max_batch),
                        "examples": request_examples(),
                    }
                },
            }
        },
    )
    async def post_events(request: Request) -> Response:
        started = time.perf_counter()
        service: IngestService = state["service"]
        try:
            body = await _read_body(request, settings.max_body_bytes)
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

    @app.get("/v1/schema/events", summary="JSON Schema of the event contract")
    async def schema() -> dict[str, Any]:
        return event_json_schema()

    @app.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz", summary="Kafka answers metadata and PostgreSQL answers", responses={503: {}}
    )
    async def readyz() -> JSONResponse:
        service: IngestService | None = state.get("service")
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

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    app.state.metrics = metrics
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("raw validator stopped", exc_info=task.exception())


async def _read_body(request: Request, limit: int) -> bytes:
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


async def _check(probe: Any, timeout: float = 3.0) -> str:
    try:
        await asyncio.wait_for(probe, timeout)
    except Exception as exc:
        return f"unavailable: {exc!r}"[:200]
    return "ok"


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
    return out


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the event contract's schemas under ``components``."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        doc.setdefault("components", {}).setdefault("schemas", {}).update(event_components())
        app.openapi_schema = doc
    return app.openapi_schema
