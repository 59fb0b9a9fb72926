"""Create the project's topics with explicit partition counts (auto-create is off on our broker)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


async def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    *,
    partitions: int = 6,
    replication: int = 1,
    config: dict[str, str] | None = None,
    per_topic: Mapping[str, Mapping[str, str]] | None = None,
) -> list[str]:
    """Create every missing topic and return their names; existing topics are left alone.

    ``config`` applies to every new topic, ``per_topic`` adds to it by name (e.g. the bounded
    retention of the untrusted topics, `CommonSettings.topic_configs`).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if not missing:
            return []
        extra = per_topic or {}
        new = [
            NewTopic(
                n, partitions, replication, topic_configs={**(config or {}), **extra.get(n, {})}
            )
            for n in missing
        ]
        # another process may win the race: the topic then exists, which is what we want
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(new)
        return missing
    finally:
        await admin.close()


async def missing_topics(bootstrap: str, names: Iterable[str]) -> list[str]:
    """The topics of ``names`` the broker does not have, in the order given.

    A metadata request only: with ``auto.create.topics.enable=false`` (as our broker runs) asking
    creates nothing. Raises the client's ``KafkaError`` if the broker cannot be reached.
    """
    wanted = list(dict.fromkeys(names))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        described = await admin.describe_topics(wanted)
    finally:
        await admin.close()
    present = {t["topic"] for t in described if t["error_code"] == 0 and t["partitions"]}
    return [n for n in wanted if n not in present]


async def topic_partitions(bootstrap: str, name: str) -> int:
    """Number of partitions of ``name`` (0 if it does not exist)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        described = await admin.describe_topics([name])
        for topic in described:
            if topic["topic"] == name and topic["error_code"] == 0:
                return len(topic["partitions"])
        return 0
    finally:
        await admin.close()
