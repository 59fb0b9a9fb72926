"""Ingest's own knobs (``CW_INGEST_*``) on top of the shared connection settings (``CW_*``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from churnwatch.events import MIN_OCCURRED_AT, ValidationLimits
from churnwatch_runtime.settings import CommonSettings


class IngestSettings(CommonSettings):
    """Everything the HTTP app and the raw validator read; built once in ``main()`` or a test.

    The shared fields keep their ``CW_`` names (``CW_KAFKA_BOOTSTRAP``, ``DATABASE_URL``) although
    this class's prefix is ``CW_INGEST_`` (see :class:`CommonSettings`).
    """

    model_config = SettingsConfigDict(env_prefix="CW_INGEST_", extra="ignore")

    host: str = Field("127.0.0.1", description="bind address; 0.0.0.0 exposes it (a decision)")
    port: int = Field(8001, ge=1, le=65535)
    max_batch: int = Field(1000, ge=1, le=100_000, description="events per POST")
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, description="whole request body")
    max_event_bytes: int = Field(65536, ge=256, description="one event's JSON")
    max_future: timedelta = Field(timedelta(minutes=5), description="occurred_at tolerance")
    min_occurred_at: datetime = Field(
        MIN_OCCURRED_AT, description="earliest occurred_at accepted (with a UTC offset)"
    )
    max_age: timedelta | None = Field(
        None, description="how far back occurred_at may lie, e.g. P3650D; unset: no limit"
    )
    dedup_window: timedelta = Field(timedelta(days=7), description="how long event_ids are kept")
    dedup_purge_interval_s: float = Field(300.0, gt=0)
    db_pool_size: int = Field(20, ge=1)
    retry_after_s: int = Field(5, ge=1, description="Retry-After on 503")
    publish_timeout_s: float = Field(15.0, gt=0, description="wait for Kafka's acks")
    producer_request_timeout_ms: int = Field(10000, ge=100)
    producer_linger_ms: int = Field(0, ge=0, description="0: ingest builds its own batches")
    create_topics: bool = True
    raw_group_id: str = "cw-ingest-raw"
    raw_max_records: int = Field(2000, ge=1)
    raw_dedup: bool = Field(True, description="drop raw-path event_id duplicates too")
    raw_retry_backoff_s: float = Field(1.0, gt=0)
    raw_metrics_port: int = Field(
        8004, ge=0, le=65535, description="/metrics of a raw-only process (DLQ counts); 0: none"
    )
    access_log: bool = False
    auth: bool = Field(
        True,
        description="POST /v1/events needs a key with events:write; CW_INGEST_AUTH=off only on"
        " a trusted network",
    )
    auth_cache_ttl_s: float = Field(5.0, ge=0, description="how long a verified key is trusted")

    def limits(self) -> ValidationLimits:
        """What both paths (HTTP and ``cw.events.raw``) check beyond the contract."""
        return ValidationLimits(
            max_bytes=self.max_event_bytes,
            max_future=self.max_future,
            min_occurred_at=self.min_occurred_at,
            max_age=self.max_age,
        )
