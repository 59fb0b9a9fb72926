"""Producer and consumer factories with the delivery guarantees churnwatch relies on."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


def make_producer(bootstrap: str, **overrides: Any) -> AIOKafkaProducer:
    """acks=all + idempotence: an acknowledged record is on the log once, in order per key."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "max_batch_size": 256 * 1024,
        "request_timeout_ms": 10000,
        "compression_type": None,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def make_consumer(
    bootstrap: str, *topics: str, group_id: str, **overrides: Any
) -> AIOKafkaConsumer:
    """Manual commits only: a worker commits offsets after (or with) its output, never before."""
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": 1000,
        "fetch_max_bytes": 16 * 1024 * 1024,
        "isolation_level": "read_committed",
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)
