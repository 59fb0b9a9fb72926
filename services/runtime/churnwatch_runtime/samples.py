"""Sample events for smoke tests and first steps: every event type, spread over customers."""

from __future__ import annotations

import copy
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from churnwatch_runtime.kafka import make_producer
from churnwatch_runtime.settings import CommonSettings


def sample_events(
    count: int, *, customers: int = 20, now: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """``count`` valid events cycling through the contract's examples, fresh ids, recent times."""
    from churnwatch.events import EXAMPLES

    now = now or datetime.now(UTC)
    examples = list(EXAMPLES.values())
    for i in range(count):
        event = copy.deepcopy(dict(examples[i % len(examples)]))
        event["event_id"] = str(uuid.uuid4())
        event["customer_id"] = f"C-{i % customers:06d}"
        event["occurred_at"] = (now - timedelta(seconds=count - i)).isoformat()
        yield event


async def send_samples(settings: CommonSettings, *, count: int, to: str, customers: int) -> int:
    """Publish to Kafka's raw topic, or POST to an ingest URL in batches of 500."""
    events = list(sample_events(count, customers=customers))
    if to == "kafka":
        producer = make_producer(settings.kafka_bootstrap)
        await producer.start()
        try:
            for event in events:
                await producer.send(
                    settings.topics.events_raw,
                    orjson.dumps(event),
                    key=event["customer_id"].encode(),
                )
            await producer.flush()
        finally:
            await producer.stop()
        return len(events)
    key = os.environ.get("CW_INGEST_KEY")  # a key with events:write (ingest requires one)
    headers = {"authorization": f"Bearer {key}"} if key else None
    async with httpx.AsyncClient(base_url=to, timeout=30, headers=headers) as client:
        for start in range(0, len(events), 500):
            response = await client.post("/v1/events", json=events[start : start + 500])
            if response.status_code >= 300:
                raise RuntimeError(f"ingest answered {response.status_code}: {response.text[:500]}")
    return len(events)
