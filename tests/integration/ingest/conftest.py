"""Ingest fixtures: settings with per-test topics and consumer group."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from churnwatch_ingest import IngestSettings
from churnwatch_runtime.settings import TopicNames
from tests.integration.ingest.support import PARTITIONS, make_key
from tests.support.infra import Broker, unique


@pytest.fixture
async def ingest_settings(
    kafka: Broker, database_url: str, topic_factory: Callable[..., Awaitable[str]]
) -> IngestSettings:
    """Unique topics and group per test; short producer timeouts so broker-down tests are quick."""
    topics = TopicNames(
        events=await topic_factory("events", partitions=PARTITIONS),
        events_raw=await topic_factory("raw", partitions=PARTITIONS),
        events_dlq=await topic_factory("dlq", partitions=PARTITIONS),
    )
    return IngestSettings(
        kafka_bootstrap=kafka.bootstrap,
        database_url=database_url,
        topics=topics,
        topic_partitions=PARTITIONS,
        raw_group_id=unique("cw-ingest-raw"),
        producer_request_timeout_ms=3000,
        publish_timeout_s=6.0,
        retry_after_s=2,
    )


@pytest.fixture(scope="session")
async def ingest_key(database_url: str) -> str:
    """A key with ``events:write`` in the session's database (ingest requires one)."""
    return await make_key(database_url, ["events:write"])
