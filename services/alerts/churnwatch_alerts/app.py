"""Wiring: settings → engine, worker on ``cw.scores``, outbox relay, webhook dispatcher, the
periodic uplift and task-expiry jobs and the health/metrics HTTP app, all in one event loop until
SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI

from churnwatch_alerts.expiry import ExpiryJob
from churnwatch_alerts.metrics import AlertsMetrics
from churnwatch_alerts.playbooks import seed_defaults
from churnwatch_alerts.processor import AlertsProcessor
from churnwatch_alerts.settings import AlertsSettings
from churnwatch_alerts.uplift import UpliftJob
from churnwatch_alerts.webhooks import WebhookDispatcher
from churnwatch_runtime.auth import Authenticator
from churnwatch_runtime.db import make_engine
from churnwatch_runtime.worker import OutboxRelay, Runnable, Worker, WorkerConfig, run_worker
from churnwatch_runtime.worker.http import HttpRunnable, health_app

log = logging.getLogger(__name__)


def create_app(
    worker: Worker, metrics: AlertsMetrics, *, auth: Authenticator | None = None
) -> FastAPI:
    """``/healthz``, ``/readyz`` (the worker's status) and ``/metrics`` (a key with read)."""
    return health_app("churnwatch alerts", worker, metrics.render, auth=auth)


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
    auth = Authenticator(engine) if settings.metrics_auth else None
    http = create_app(worker, metrics, auth=auth)
    also: list[Runnable] = [HttpRunnable(http, settings.host, settings.port)]
    if settings.relay:
        also.append(OutboxRelay(engine, settings.kafka_bootstrap, batch_size=settings.relay_batch))
    if settings.webhooks:
        also.append(WebhookDispatcher(engine, settings.webhook_config(), metrics))
    if settings.uplift:
        also.append(UpliftJob(engine, settings.uplift_config()))
    if settings.task_expiry:
        also.append(ExpiryJob(engine, settings.expiry_config(), metrics))
    try:
        await run_worker(worker, stop, also=also)
    finally:
        await engine.dispose()
        log.info("alerts stopped cleanly")
