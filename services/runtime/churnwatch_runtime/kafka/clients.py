"""Producer and consumer factories with the delivery guarantees churnwatch relies on."""

from __future__ import annotations

import os
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

COMPRESSION_CODECS = ("zstd", "lz4", "gzip", "snappy", "none")


def compression_type(value: str | None = None) -> str | None:
    """The producers' codec: ``CW_KAFKA_COMPRESSION`` (default ``zstd``; ``none`` turns it off).

    zstd and lz4 need ``cramjam`` (a pinned dependency: aiokafka 0.14 compresses through it, and
    every consumer needs it to read such batches); gzip is in the standard library.
    docs/scaling.md has the measured bytes per event per codec.

    >>> compression_type("zstd"), compression_type("none"), compression_type("LZ4")
    ('zstd', None, 'lz4')
    >>> compression_type("brotli")
    Traceback (most recent call last):
    ...
    ValueError: CW_KAFKA_COMPRESSION='brotli': expected one of zstd, lz4, gzip, snappy, none
    """
    raw = (value if value is not None else os.environ.get("CW_KAFKA_COMPRESSION", "zstd")).lower()
    if raw not in COMPRESSION_CODECS:
        raise ValueError(
            f"CW_KAFKA_COMPRESSION={raw!r}: expected one of {', '.join(COMPRESSION_CODECS)}"
        )
    return None if raw == "none" else raw


def make_producer(bootstrap: str, **overrides: Any) -> AIOKafkaProducer:
    """acks=all + idempotence: an acknowledged record is on the log once, in order per key.

    Batches are compressed (`compression_type`): JSON events and scores shrink 3-5x on the log.
    """
    options: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "max_batch_size": 256 * 1024,
        "request_timeout_ms": 10000,
        "compression_type": compression_type(),
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
