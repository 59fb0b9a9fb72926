"""What a fault run is judged by (`bench.faults`): lag, drain, the final state, the comparison.

*Lost* and *doubled* are counted per customer against what ingest acknowledged: the profile's
``events`` (each distinct event folded in once) below the customer's acknowledged events is a
loss, above it a double. Profiles, latest scores (CLV included), tasks, actions and webhook
deliveries are then compared with the clean run's, row by row.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.faults import Run

SCORE_COLUMNS = (
    "churn_probability",
    "band",
    "reasons",
    "clv",
    "clv_low",
    "clv_high",
    "tier",
    "lifecycle_stage",
    "rfm_segment",
    "value_at_risk",
    "value_if_retained",
    "business_model",
    "event_time",
    "cause",
    "cause_event_id",
)  # fmt: skip  (latest_scores minus updated_at/partition; model_version reported apart)


async def _conn(r: Run) -> Any:
    import asyncpg

    return await asyncpg.connect(r.db_url.replace("+asyncpg", ""), timeout=5)


async def _ends(r: Run, topic: str) -> dict[int, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=r.cluster.broker.bootstrap, group_id=None)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(r.cfg.partitions)]
        return {tp.partition: int(n) for tp, n in (await consumer.end_offsets(parts)).items()}
    finally:
        await consumer.stop()


async def _db_offsets(conn: Any, group: str, topic: str) -> dict[int, int]:
    rows = await conn.fetch(
        "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2",
        group,
        topic,
    )
    return {int(p): int(n) for p, n in rows}


async def _kafka_offsets(r: Run, group: str) -> dict[int, int]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=r.cluster.broker.bootstrap)
    await admin.start()
    try:
        got = await admin.list_consumer_group_offsets(group)
        return {tp.partition: int(m.offset) for tp, m in got.items() if m.offset >= 0}
    finally:
        await admin.close()


def behind(ends: dict[int, int], committed: dict[int, int]) -> int:
    """Records on the topic not yet committed by the group.

    >>> behind({0: 10, 1: 5}, {0: 7})
    8
    """
    return sum(max(0, n - committed.get(p, 0)) for p, n in ends.items())


async def scoring_behind(r: Run) -> int:
    conn = await _conn(r)
    try:
        got = await _db_offsets(conn, r.groups["scoring"], r.topics["events"])
    finally:
        await conn.close()
    return behind(await _ends(r, r.topics["events"]), got)


async def lags(r: Run) -> dict[str, int]:
    """Consumer lag of the raw validator, scoring and alerts; outbox rows; pending webhooks."""
    t, g = r.topics, r.groups
    conn = await _conn(r)
    try:
        scoring = await _db_offsets(conn, g["scoring"], t["events"])
        alerts = await _db_offsets(conn, g["alerts"], t["scores"])
        outbox = int(await conn.fetchval("SELECT count(*) FROM outbox"))
        pending = int(
            await conn.fetchval(
                "SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'"
            )
        )
        labels = await conn.fetchval("SELECT max(labels_seen) FROM model_checkpoints")
    finally:
        await conn.close()
    return {
        "raw": behind(await _ends(r, t["raw"]), await _kafka_offsets(r, g["raw"])),
        "scoring": behind(await _ends(r, t["events"]), scoring),
        "alerts": behind(await _ends(r, t["scores"]), alerts),
        "outbox": outbox,
        "webhooks_pending": pending,
        "labels_seen": int(labels or 0),
    }


async def drained(r: Run) -> dict[str, int]:
    """Wait until every lag, the outbox and pending webhooks are 0 three checks in a row (and
    the learner's labels stopped moving); the last reading."""
    deadline, calm, last = time.monotonic() + r.cfg.timeout_s, 0, None
    while calm < 3:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the pipeline did not drain: {last}")
        try:
            now = await lags(r)
        except Exception:
            calm = 0
            await asyncio.sleep(1)
            continue
        zero = all(v == 0 for k, v in now.items() if k != "labels_seen")
        calm = calm + 1 if zero and (last is None or last == now) else 0
        last = now
        await asyncio.sleep(1.5)
    assert last is not None
    return last


@dataclass
class Final:
    """The end state of one run, read from its database, topic and receiver."""

    profiles: dict[str, bytes]
    events: dict[str, int]  # customer → profile.events
    scores: dict[str, tuple[Any, ...]]
    model_versions: Counter[str]
    tasks: list[tuple[str, str, str]]  # (task id, customer, playbook)
    exposures: list[str]
    deliveries: dict[tuple[str, str], str]  # (action, endpoint) → status
    actions: Counter[str]  # action id → messages on cw.actions
    action_msgs: Counter[tuple[str, str]]  # (action id, cw-msg-id) → messages
    received_ok: Counter[str]  # receiver: action id → 2xx answered to a waiting sender
    lag: dict[str, int] = field(default_factory=dict)


async def final(r: Run, lag: dict[str, int]) -> Final:
    from churnwatch.profile import CustomerProfile

    conn = await _conn(r)
    try:
        profiles = {c: bytes(s) for c, s in await conn.fetch(
            "SELECT customer_id, state FROM customer_profiles")}  # fmt: skip
        cols = ", ".join(SCORE_COLUMNS)
        rows = await conn.fetch(f"SELECT customer_id, model_version, {cols} FROM latest_scores")
        tasks = [(x[0], x[1], x[2]) for x in await conn.fetch(
            "SELECT task_id, customer_id, playbook_id FROM tasks")]  # fmt: skip
        exposures = [x[0] for x in await conn.fetch("SELECT action_id FROM exposures")]
        deliveries = {(a, e): s for a, e, s in await conn.fetch(
            "SELECT action_id, endpoint_id, status FROM webhook_deliveries")}  # fmt: skip
    finally:
        await conn.close()
    actions, msgs = await _read_actions(r)
    return Final(
        profiles=profiles,
        events={c: CustomerProfile.from_bytes(s).events for c, s in profiles.items()},
        scores={x[0]: tuple(x[2:]) for x in rows},
        model_versions=Counter(x[1] for x in rows),
        tasks=tasks, exposures=exposures, deliveries=deliveries, actions=actions,
        action_msgs=msgs, received_ok=Counter(r.receiver.answered_ok), lag=lag,
    )  # fmt: skip


async def _read_actions(r: Run) -> tuple[Counter[str], Counter[tuple[str, str]]]:
    import orjson
    from aiokafka import AIOKafkaConsumer

    topic = r.topics["actions"]
    total = sum((await _ends(r, topic)).values())
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=r.cluster.broker.bootstrap, group_id=None,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    ids: Counter[str] = Counter()
    msgs: Counter[tuple[str, str]] = Counter()
    try:
        seen = 0
        while seen < total:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for rec in records:
                    seen += 1
                    action = str(orjson.loads(rec.value or b"{}").get("action_id"))
                    msg = dict(rec.headers).get("cw-msg-id", b"").decode()
                    ids[action] += 1
                    msgs[(action, msg)] += 1
    finally:
        await consumer.stop()
    return ids, msgs
