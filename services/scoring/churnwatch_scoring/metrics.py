"""Prometheus metrics of the scoring worker, in a registry of their own (one per app, so tests
can build several in one process); ``/metrics`` renders it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_E2E_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ScoringMetrics:
    """Counters of events and scores, batch latency, model version, event-to-score latency."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter("cw_scoring_events", "Events consumed and applied", registry=r)
        self.duplicates = Counter(
            "cw_scoring_events_ignored", "Events that changed nothing (duplicate or erased)",
            registry=r,
        )  # fmt: skip
        self.rejected = Counter(
            "cw_scoring_events_rejected", "Records on cw.events that broke the contract (DLQ)",
            registry=r,
        )  # fmt: skip
        self.scored = Counter("cw_scoring_scores", "Scores written", ["cause"], registry=r)
        self.batch_seconds = Histogram(
            "cw_scoring_batch_seconds", "Processing time of a batch (before commit)",
            buckets=_BATCH_BUCKETS, registry=r,
        )  # fmt: skip
        self.kpi_seconds = Counter(
            "cw_scoring_kpi_seconds",
            "Time the KPI hook took inside batches (its share of cw_scoring_batch_seconds)",
            registry=r,
        )
        self.event_to_score = Histogram(
            "cw_scoring_event_to_score_seconds",
            "Kafka timestamp of the scored event to its score being written (wall clock)",
            buckets=_E2E_BUCKETS, registry=r,
        )  # fmt: skip
        self.model_version = Gauge(
            "cw_scoring_model_info", "Model in use (value 1)", ["model_version"], registry=r
        )
        self.model_row = Gauge(
            "cw_scoring_model_checkpoint", "model_checkpoints.version in use (0: prior)", registry=r
        )

    def set_model(self, version: str, row: int | None) -> None:
        self.model_version.clear()
        self.model_version.labels(version).set(1)
        self.model_row.set(row or 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)
