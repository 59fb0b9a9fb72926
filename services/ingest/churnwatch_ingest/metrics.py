"""Prometheus metrics of ingest, in a registry of their own.

One registry per app (not the global one) so that tests and benchmarks can build several apps in
one process; ``/metrics`` renders it. ``source`` is ``http`` or ``kafka`` (the raw path).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)


class IngestMetrics:
    """Counters and histograms; label values are low-cardinality (sources, error codes)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.accepted = Counter(
            "cw_ingest_events_accepted", "Events published and acknowledged", ["source"], registry=r
        )
        self.rejected = Counter(
            "cw_ingest_events_rejected",
            "Events that broke the contract, by first error code",
            ["source", "reason"],
            registry=r,
        )
        self.duplicates = Counter(
            "cw_ingest_events_duplicate", "Events whose event_id was seen", ["source"], registry=r
        )
        self.unavailable = Counter(
            "cw_ingest_events_unavailable",
            "Valid events not acknowledged by Kafka (HTTP 503; the client retries)",
            ["source"],
            registry=r,
        )
        self.dlq = Counter(
            "cw_ingest_dlq_records", "Raw records written to the DLQ", ["reason"], registry=r
        )
        self.produce_seconds = Histogram(
            "cw_ingest_produce_seconds",
            "From the first send of a batch to Kafka's last acknowledgement",
            ["source"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.request_seconds = Histogram(
            "cw_ingest_request_seconds",
            "POST /v1/events, body read to answer",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
