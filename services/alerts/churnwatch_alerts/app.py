"""Wiring: settings → engine, worker on ``cw.scores``, outbox relay, webhook dispatcher, the
periodic uplift job and the health/metrics HTTP app, all in one event loop until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

from churnwatch_alerts.metrics import AlertsMetrics
from churnwatch_alerts.playbooks import seed_defaults
from churnwatch_alerts.processor import AlertsProcessor
from churnwatch_alerts.settings import AlertsSettings
from churnwatch_alerts.uplift import UpliftJob
from churnwatch_alerts.webhooks import WebhookDispatcher
from churnwatch_runtime.db import make_engine
from churnwatch_runtime.worker import OutboxRelay, Runnable, Worker, WorkerConfig, run_worker

log = logging.getLogger(__name__)


def create_app(worker: Worker, metrics: AlertsMetrics) -> FastAPI:
    """``/healthz`` (the process answers), ``/readyz`` (the worker's status), ``/metrics``."""
    app = FastAPI(title="churnwatch alerts", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        status = worker.status()
        return JSONResponse(status.to_dict(), status_code=200 if status.ready else 503)

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return app


class _Server(uvicorn.Server):
    """Leaves signals to `run_worker`, which stops everything in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _Http:
    """uvicorn as a `Runnable`: serves until ``stop`` is set."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
        self.server = _Server(config)

    async def run(self, stop: asyncio.Event) -> None:
        serving = asyncio.create_task(self.server.serve())
        await stop.wait()
        self.server.should_exit = True
        await serving


async def run(settings: AlertsSettings, stop: asyncio.Event | None = None) -> None:
    """The alerts service until ``stop`` or a signal."""
    engine = make_engine(settings.database_url)
    if settings.seed_defaults:
        async with engine.begin() as conn:
            if n := await seed_defaults(conn):
                log.info("default playbooks loaded", extra={"playbooks": n})
    metrics = AlertsMetrics()
    worker = Worker(
        engine,
        AlertsProcessor(settings.alerts_config(), metrics),
        bootstrap=settings.kafka_bootstrap,
        topics=[settings.topics.scores],
        group_id=settings.group_id,
        config=WorkerConfig(max_records=settings.max_records, max_wait_ms=settings.max_wait_ms),
    )
    also: list[Runnable] = [_Http(create_app(worker, metrics), settings.host, settings.port)]
    if settings.relay:
        also.append(OutboxRelay(engine, settings.kafka_bootstrap, batch_size=settings.relay_batch))
    if settings.webhooks:
        also.append(WebhookDispatcher(engine, settings.webhook_config(), metrics))
    if settings.uplift:
        also.append(UpliftJob(engine, settings.uplift_config()))
    try:
        await run_worker(worker, stop, also=also)
    finally:
        await engine.dispose()
        log.info("alerts stopped cleanly")
