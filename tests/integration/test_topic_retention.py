"""The untrusted topics (raw input, dead letters) are created with a bounded retention."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from churnwatch_runtime.local import create_topics
from churnwatch_runtime.settings import CommonSettings, TopicNames
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration


async def retention_ms(bootstrap: str, topic: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (answer,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {"retention.ms": None})]
        )
        entries = {e[0]: e[1] for e in answer.resources[0][4]}
        return str(entries["retention.ms"])
    finally:
        await admin.close()


async def test_raw_and_dlq_get_the_configured_retention(kafka: Broker) -> None:
    names = {t: unique(f"ret.{t}").replace("_", ".") for t in ("raw", "ev", "dlq", "sc", "ac")}
    settings = CommonSettings(
        kafka_bootstrap=kafka.bootstrap,
        topics=TopicNames(
            events_raw=names["raw"], events=names["ev"], events_dlq=names["dlq"],
            scores=names["sc"], actions=names["ac"],
        ),
        untrusted_retention_ms=3_600_000,
    )  # fmt: skip
    assert sorted(await create_topics(settings, partitions=1)) == sorted(names.values())
    assert await retention_ms(kafka.bootstrap, names["raw"]) == "3600000"
    assert await retention_ms(kafka.bootstrap, names["dlq"]) == "3600000"
    # the validated stream keeps the broker default: its personal fields are sealed
    assert await retention_ms(kafka.bootstrap, names["ev"]) != "3600000"
