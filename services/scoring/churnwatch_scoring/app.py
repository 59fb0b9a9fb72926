"""Wiring: settings → engine, worker, outbox relay and the health/metrics HTTP app.

``run(settings)`` runs the three in one event loop until SIGTERM/SIGINT: the worker finishes and
commits its batch, the relay its publication, uvicorn its requests.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from datetime import timedelta

from fastapi import FastAPI

from churnwatch.model import LabelResolver, SnapshotPolicy
from churnwatch.profile import ActivityVocabulary
from churnwatch.storage import PublishPolicy
from churnwatch_runtime.auth import Authenticator
from churnwatch_runtime.db import make_engine
from churnwatch_runtime.worker import OutboxRelay, Runnable, Worker, WorkerConfig, run_worker
from churnwatch_runtime.worker.http import HttpRunnable, health_app
from churnwatch_scoring.hotload import ModelSource
from churnwatch_scoring.metrics import ScoringMetrics
from churnwatch_scoring.processor import ScoringConfig, ScoringProcessor
from churnwatch_scoring.scoring import ScoreOptions
from churnwatch_scoring.settings import ScoringSettings
from churnwatch_scoring.valuation import ValueSettings

log = logging.getLogger(__name__)


def build_processor(
    settings: ScoringSettings, metrics: ScoringMetrics | None = None
) -> ScoringProcessor:
    """The processor the settings describe (tests build theirs the same way)."""
    bands = settings.bands()
    options = ScoreOptions(
        bands=bands,
        history_min_move=settings.history_min_move,
        snapshots=SnapshotPolicy(min_gap_days=settings.snapshot_gap_days),
        resolver=LabelResolver.for_horizon(settings.horizon_days),
        activities=_pinned(settings.activities),
        publish=PublishPolicy(
            settings.publish, settings.publish_min_move, settings.publish_min_value_move
        ),
        value=ValueSettings(
            churn_window_days=float(settings.horizon_days), basis=settings.value_basis
        ),
    )
    config = ScoringConfig(
        group_id=settings.group_id,
        scores_topic=settings.topics.scores,
        dlq_topic=settings.topics.events_dlq,
        lateness=timedelta(seconds=settings.allowed_lateness_s),
        cache_per_partition=settings.cache_per_partition,
        silence=settings.silence,
        options=options,
        kpis=settings.kpis,
    )
    models = ModelSource(
        bands=bands, horizon_days=settings.horizon_days, poll_s=settings.model_poll_s
    )
    return ScoringProcessor(config, models, metrics)


def _pinned(names: str) -> ActivityVocabulary | None:
    """``CW_SCORING_ACTIVITIES`` pins the activity names; empty: the model's vocabulary.

    >>> _pinned(" like, post ,"), _pinned("")
    (ActivityVocabulary(names=('like', 'post'), buckets=2), None)
    """
    picked = tuple(name.strip() for name in names.split(",") if name.strip())
    return ActivityVocabulary(picked) if picked else None


def create_app(
    worker: Worker, metrics: ScoringMetrics, *, auth: Authenticator | None = None
) -> FastAPI:
    """``/healthz``, ``/readyz`` (the worker's status) and ``/metrics`` (a key with read)."""
    return health_app("churnwatch scoring", worker, metrics.render, auth=auth)


async def run(settings: ScoringSettings, stop: asyncio.Event | None = None) -> None:
    """The scoring service until ``stop`` or a signal."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)  # as ingest: many short-lived objects per event
    engine = make_engine(settings.database_url)
    metrics = ScoringMetrics()
    worker = Worker(
        engine,
        build_processor(settings, metrics),
        bootstrap=settings.kafka_bootstrap,
        topics=[settings.topics.events],
        group_id=settings.group_id,
        config=WorkerConfig(max_records=settings.max_records, max_wait_ms=settings.max_wait_ms),
    )
    auth = Authenticator(engine) if settings.metrics_auth else None
    http = create_app(worker, metrics, auth=auth)
    also: list[Runnable] = [HttpRunnable(http, settings.host, settings.port)]
    if settings.relay:
        also.append(OutboxRelay(engine, settings.kafka_bootstrap, batch_size=settings.relay_batch))
    try:
        await run_worker(worker, stop, also=also)
    finally:
        await engine.dispose()
        log.info("scoring stopped cleanly")
