"""The FastAPI app: wiring only. The lifespan opens Kafka, PostgreSQL and the background tasks.

``create_app`` puts the settings and metrics on ``app.state`` and includes the routes
(:mod:`churnwatch_ingest.routes`); :func:`lifespan` adds the :class:`IngestService` there and
closes everything it opened, in reverse order, whether start-up or shutdown fails. Routes reach
all of it through the dependencies in :mod:`churnwatch_ingest.deps`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from churnwatch_ingest.dedup import DedupStore, purge_forever
from churnwatch_ingest.metrics import IngestMetrics
from churnwatch_ingest.raw import ensure_ingest_topics, run_raw_validator
from churnwatch_ingest.routes import EVENTS_PATH, router
from churnwatch_ingest.schemas import event_components, request_examples, request_schema
from churnwatch_ingest.service import IngestService
from churnwatch_ingest.settings import IngestSettings
from churnwatch_runtime import problems
from churnwatch_runtime.auth import Authenticator
from churnwatch_runtime.db import make_engine
from churnwatch_runtime.docs import mount_docs
from churnwatch_runtime.kafka import make_producer

log = logging.getLogger(__name__)

_DESCRIPTION = """\
Events in, one or a batch. Each event gets its own result; **2xx only after Kafka acknowledged
every accepted event**. `event_id` is the idempotency key: a re-sent event is a `duplicate`.

| status | when |
|---|---|
| 200 | nothing rejected (accepted and/or duplicates) |
| 207 | some rejected, some accepted or duplicate: the good ones **are** published |
| 422 | every event rejected, or an empty array |
| 413 | more than `max_batch` events, or a body larger than `max_body_bytes` |
| 415 | a `Content-Type` other than `application/json` (charset, if any, `utf-8`) |
| 401 / 403 | no valid key; the key lacks `events:write` (or `events:erase` for `customer_erased`) |

Every answer that is not a success is `application/problem+json` (RFC 9457: `type`, `title`, \
`status`, `detail`, `instance`); a 422 or 503 also carries the per-event `results`.
| 503 | Kafka (or the idempotency store) did not answer; `Retry-After` is set. Events marked \
`accepted` are published; those marked `unavailable` are not: re-send the request |
"""


def create_app(settings: IngestSettings, *, run_raw: bool = False) -> FastAPI:
    """The ingest app; with ``run_raw`` its lifespan also runs the Kafka-native validator."""
    app = FastAPI(
        title="churnwatch ingest",
        version="1",
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc from the package's assets (no CDN): mount_docs
        redoc_url=None,
    )
    mount_docs(app)
    problems.install(app, service="ingest")  # one error shape, as the API's (RFC 9457)
    app.state.settings = settings
    app.state.metrics = IngestMetrics()
    app.state.run_raw = run_raw
    app.include_router(router)
    app.openapi = lambda: _openapi(app, settings.max_batch)  # type: ignore[method-assign]
    return app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Topics, the idempotency store, the producer, the purge (and raw validator) tasks."""
    settings: IngestSettings = app.state.settings
    metrics: IngestMetrics = app.state.metrics
    run_raw: bool = app.state.run_raw
    topics = settings.topics
    await ensure_ingest_topics(settings)
    async with AsyncExitStack() as stack:
        producer = make_producer(
            settings.kafka_bootstrap,
            linger_ms=settings.producer_linger_ms,
            request_timeout_ms=settings.producer_request_timeout_ms,
        )
        store = await DedupStore.connect(settings.database_url, size=settings.db_pool_size)
        stack.push_async_callback(store.close)
        if settings.auth:
            engine = make_engine(settings.database_url, pool_size=2)
            stack.push_async_callback(engine.dispose)
            app.state.auth = Authenticator(engine, ttl_s=settings.auth_cache_ttl_s)
        await producer.start()
        stack.push_async_callback(producer.stop)
        app.state.service = IngestService(
            producer=producer,
            store=store,
            metrics=metrics,
            topic=topics.events,
            limits=settings.limits(),
            max_batch=settings.max_batch,
            publish_timeout=settings.publish_timeout_s,
        )
        stack.callback(_forget_service, app)
        stop = asyncio.Event()
        purge = asyncio.create_task(
            purge_forever(
                store, window=settings.dedup_window, interval=settings.dedup_purge_interval_s
            )
        )
        stack.push_async_callback(_finish, purge, cancel=True)
        if run_raw:
            raw = asyncio.create_task(
                run_raw_validator(settings, stop, metrics=metrics, purge=False)
            )
            raw.add_done_callback(_log_crash)
            stack.push_async_callback(_finish, raw, cancel=False)
        stack.callback(stop.set)  # runs first: the raw validator drains and returns
        log.info("ingest ready", extra={"topic": topics.events, "raw": run_raw})
        yield


def _forget_service(app: FastAPI) -> None:
    """After shutdown ``/readyz`` says "starting" again instead of probing closed clients."""
    del app.state.service


async def _finish(task: asyncio.Task[None], *, cancel: bool) -> None:
    """Wait for ``task`` to end (cancelling it first if asked); its own error propagates."""
    if cancel:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("raw validator stopped", exc_info=task.exception())


def _openapi(app: FastAPI, max_batch: int) -> dict[str, Any]:
    """FastAPI's document plus the event contract: its schemas and the events request body."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        doc.setdefault("components", {}).setdefault("schemas", {}).update(event_components())
        doc["paths"][EVENTS_PATH]["post"]["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": request_schema(max_batch),
                    "examples": request_examples(),
                }
            },
        }
        app.openapi_schema = doc
    return app.openapi_schema
