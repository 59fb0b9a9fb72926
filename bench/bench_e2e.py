"""End to end: a POSTed event to the retention action it causes, at a steady 1,000 events/s.

Three real processes on the bench's broker and PostgreSQL (`bench.infra.infra`):
``python -m churnwatch_ingest http`` → ``cw.events`` → ``python -m churnwatch_scoring`` (worker +
outbox relay) → ``cw.scores`` → ``python -m churnwatch_alerts`` (worker + outbox relay) →
``cw.actions``. This process is the load generator and the ``cw.actions`` reader.

Load: open loop, a batch of ``BATCH`` events every ``BATCH / RATE`` seconds, each POST in its
own task so a slow answer never delays the next send; first a ``WARMUP_SECONDS`` warm-up of
background events only (every contract type but erasure, profiles and failed payments, over
``BACKGROUND`` customers), drained, then the measured ``SECONDS``. In it, ``TRIGGER_SHARE`` of
the events go to fresh *trigger* customers, each getting, in one POST, a ``customer_profile``
(e-mail consent) and a ``payment_failed``: the default ``billing_outreach`` playbook fires on
the first failure at once (no event-time wait), and the fresh customer's first score may also
enter the high band and fire ``offer_at_risk``; the per-customer cooldown lets only the first
through, and either way it is an automated e-mail action caused by that POST and relayed to
``cw.actions``. Latency: the first such message's arrival at our consumer minus the POST's send
time, both on this process's monotonic clock. Customers in a playbook's 10 % holdout get no
action; alerts' decisions for the trigger customers (exposures by arm, suppressions by reason)
are read back and reported with the figure.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from bench.harness import Benchmark, Context, Metric, Target
from bench.infra import infra, ingest_key, service, services_available, wait_ready

SEED = 7
RATE = 1_000  # events/s
BATCH = 50  # events per POST: one every 50 ms
SECONDS = 30
QUICK_SECONDS = 8
WARMUP_SECONDS = 5
TRIGGER_SHARE = 0.02  # 20 trigger customers/s (40 of the 1,000 events/s)
BACKGROUND = 5_000
PARTITIONS = 6
SKIP = ("customer_erased", "payment_failed", "offer_response", "customer_profile")


_available = services_available(
    ("churnwatch_ingest.app", "churnwatch_ingest"),
    ("churnwatch_scoring.app", "churnwatch_scoring"),
    ("churnwatch_alerts.app", "churnwatch_alerts"),
)


@dataclass
class Load:
    """Builds the events (stamped at send time) and remembers when each trigger was sent."""

    tag: str
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    ids: itertools.count[int] = field(default_factory=itertools.count)
    sent: dict[str, float] = field(default_factory=dict)  # trigger customer → POST send time

    def __post_init__(self) -> None:
        from churnwatch.events import EXAMPLES

        self.templates = [v for k, v in EXAMPLES.items() if k not in SKIP]

    def _event(self, template: dict[str, Any], customer: str, now: str) -> dict[str, Any]:
        return {**template, "event_id": f"{self.tag}-{next(self.ids)}", "customer_id": customer,
                "occurred_at": now}  # fmt: skip

    def batch(self, triggers: int) -> tuple[list[dict[str, Any]], list[str]]:
        """``BATCH`` events: for each of ``triggers`` fresh customers a consent profile and a
        failed payment (both in this POST, so whatever action follows was caused by it); the
        rest background. Returns the events and the trigger customers."""
        from churnwatch.events import EXAMPLES, EventType

        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        out: list[dict[str, Any]] = []
        customers: list[str] = []
        profile = EXAMPLES[EventType.CUSTOMER_PROFILE]
        consent = {"email": True, "sms": False, "phone": True, "push": None}
        attrs = {**profile["attributes"], "consent": consent}
        for _ in range(triggers):
            customer = f"T-{self.tag}-{len(self.sent) + len(customers)}"
            customers.append(customer)
            out.append({**self._event(profile, customer, now), "attributes": attrs})
            out.append(self._event(EXAMPLES[EventType.PAYMENT_FAILED], customer, now))
        while len(out) < BATCH:
            customer = f"B-{self.rng.randrange(BACKGROUND)}"
            out.append(self._event(self.rng.choice(self.templates), customer, now))
        return out, customers


async def _post(client: Any, body: bytes) -> int:
    answer = await client.post("/v1/events", content=body)
    if answer.status_code != 200:
        raise RuntimeError(f"POST answered {answer.status_code}: {answer.text[:300]}")
    return int(orjson.loads(answer.content)["accepted"])


async def _steady(base: str, load: Load, seconds: float, triggers: float, key: str) -> int:
    """Open loop at ``RATE`` for ``seconds`` with ``triggers`` trigger customers per second,
    spread evenly; returns the events accepted. Each POST's send time is that of its
    triggers."""
    import httpx

    ticks = int(seconds * RATE / BATCH)
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as client:
        tasks = []
        start = time.perf_counter()
        owed = 0.0
        for k in range(ticks):
            delay = start + k * BATCH / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            owed += triggers * BATCH / RATE
            n, owed = int(owed), owed - int(owed)
            events, customers = load.batch(n)
            body = orjson.dumps(events)
            at = time.perf_counter()
            load.sent.update((c, at) for c in customers)
            tasks.append(asyncio.create_task(_post(client, body)))
        return sum(await asyncio.gather(*tasks))


async def _actions(bootstrap: str, topic: str, stop: asyncio.Event) -> list[tuple[float, str, str]]:
    """Every ``cw.actions`` message as (arrival, customer, playbook) until ``stop``."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", fetch_max_wait_ms=20
    )
    await consumer.start()
    out: list[tuple[float, str, str]] = []
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in batch.values():
                for r in records:
                    action = orjson.loads(r.value or b"{}")
                    playbook = str(action.get("params", {}).get("playbook_id", "?"))
                    out.append((now, str(action.get("customer_id")), playbook))
    finally:
        await consumer.stop()
    return out


async def _drained(db_url: str, group: str, events: int, timeout: float = 300) -> None:
    """Scoring has committed ``events`` offsets and no outbox row is left (twice, 0.5 s apart:
    the alerts relay may still be publishing what scoring's last scores caused)."""
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("+asyncpg", "").replace("+psycopg", ""))
    try:
        deadline, calm = time.monotonic() + timeout, 0
        while calm < 2:
            if time.monotonic() > deadline:
                raise TimeoutError("the pipeline did not drain")
            row = await conn.fetchrow(
                "SELECT (SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets"
                " WHERE group_id = $1), (SELECT count(*) FROM outbox)",
                group,
            )
            assert row is not None
            calm = calm + 1 if int(row[0]) >= events and int(row[1]) == 0 else 0
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def _decisions(db_url: str, prefix: str) -> Counter[str]:
    """What alerts decided for the trigger customers: ``exposed:<playbook>:<arm>`` (holdout
    control or treated) and ``suppressed:<playbook>:<reason>`` (a guardrail), customers each."""
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("+asyncpg", "").replace("+psycopg", ""))
    try:
        rows = await conn.fetch(
            "SELECT 'exposed:' || playbook_id || ':' || arm, count(DISTINCT customer_id)"
            " FROM exposures WHERE customer_id LIKE $1 GROUP BY 1 UNION ALL"
            " SELECT 'suppressed:' || playbook_id || ':' || reason, count(DISTINCT customer_id)"
            " FROM suppressions WHERE customer_id LIKE $1 GROUP BY 1",
            prefix + "%",
        )
        return Counter({str(r[0]): int(r[1]) for r in rows})
    finally:
        await conn.close()


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def _measure(ctx: Context, bootstrap: str, db_url: str) -> list[Metric]:
    from churnwatch_runtime.infra._proc import free_port
    from churnwatch_runtime.kafka import ensure_topics

    tag = f"e{int(time.time())}"
    names = {k: f"bench.{tag}.{k}" for k in ("events", "raw", "dlq", "scores", "actions")}
    await ensure_topics(bootstrap, list(names.values()), partitions=PARTITIONS)
    ports = {k: free_port() for k in ("ingest", "scoring", "alerts")}
    group = f"bench-e2e-scoring-{tag}"
    env = dict(os.environ)
    env.update(
        CW_KAFKA_BOOTSTRAP=bootstrap, DATABASE_URL=db_url, CW_LOG_LEVEL="WARNING",
        CW_TOPIC_PARTITIONS=str(PARTITIONS), CW_TOPIC_EVENTS=names["events"],
        CW_TOPIC_EVENTS_RAW=names["raw"], CW_TOPIC_EVENTS_DLQ=names["dlq"],
        CW_TOPIC_SCORES=names["scores"], CW_TOPIC_ACTIONS=names["actions"],
        CW_INGEST_HOST="127.0.0.1", CW_INGEST_PORT=str(ports["ingest"]),
        CW_SCORING_GROUP_ID=group, CW_SCORING_PORT=str(ports["scoring"]),
        CW_ALERTS_GROUP_ID=f"bench-e2e-alerts-{tag}", CW_ALERTS_PORT=str(ports["alerts"]),
        CW_ALERTS_UPLIFT_WATERMARK_GROUP=group,
    )  # fmt: skip
    seconds = QUICK_SECONDS if ctx.quick else SECONDS
    load = Load(tag)
    with (
        service(ctx, ["churnwatch_ingest", "http"], env, "ingest.log") as ingest,
        service(ctx, ["churnwatch_scoring"], env, "scoring.log") as scoring,
        service(ctx, ["churnwatch_alerts"], env, "alerts.log") as alerts,
    ):
        for name, proc in (("ingest", ingest), ("scoring", scoring), ("alerts", alerts)):
            await wait_ready(f"http://127.0.0.1:{ports[name]}/readyz", proc)
        base = f"http://127.0.0.1:{ports['ingest']}"
        stop = asyncio.Event()
        reader = asyncio.create_task(_actions(bootstrap, names["actions"], stop))
        key = await ingest_key(db_url)
        warm = await _steady(base, load, WARMUP_SECONDS, 0.0, key)
        await _drained(db_url, group, warm)
        started = time.perf_counter()
        measured = await _steady(base, load, seconds, RATE * TRIGGER_SHARE, key)
        wall = time.perf_counter() - started
        await _drained(db_url, group, warm + measured)
        await asyncio.sleep(1.0)
        stop.set()
        messages = await reader
    first: dict[str, tuple[float, str]] = {}
    for at, customer, playbook in messages:
        sent = load.sent.get(customer)
        if sent is not None and at >= sent and customer not in first:
            first[customer] = (at - sent, playbook)
    delays = sorted(d * 1000 for d, _ in first.values())
    by_playbook = Counter(p for _, p in first.values())
    decided = await _decisions(db_url, f"T-{tag}-")
    p50, p99 = _pct(delays, 0.5), _pct(delays, 0.99)
    split = ", ".join(f"{n} {p}" for p, n in by_playbook.most_common())
    rate = measured / wall  # the measured phase's events over its wall time, POSTs answered
    return [
        Metric(
            "event_to_task_p99_ms",
            round(p99, 1),
            "ms",
            "python -m bench --only e2e" + (" --quick" if ctx.quick else ""),
            target=Target("<=", 1_000),
            notes=(
                f"POST /v1/events (ingest) → scoring → alerts → cw.actions, three real processes; "
                f"{seconds} s open loop at {RATE:,} events/s ({BATCH}-event POSTs every "
                f"{1000 * BATCH // RATE} ms; {rate:,.0f} events/s achieved) after a "
                f"{WARMUP_SECONDS} s warm-up. {len(load.sent):,} trigger customers (consent "
                f"profile + failed payment in one POST); {len(delays):,} matched first "
                f"actions ({split}); "
                f"alerts' decisions for them (customers): {dict(decided)}; "
                f"{len(messages):,} cw.actions messages in all. POST send to the action's "
                f"arrival at a consumer: p50 {p50:.0f} ms, max {_pct(delays, 1.0):.0f} "
                f"ms. Kafka, PostgreSQL, the three services and the load generator share this "
                f"2-core machine."
            ),
        )
    ]


def _run(ctx: Context) -> list[Metric]:
    with infra(ctx) as (bootstrap, db_url):
        return asyncio.run(_measure(ctx, bootstrap, db_url))


BENCHMARKS = [
    Benchmark(
        name="e2e",
        run=_run,
        available=_available,
        description="ingest → scoring → alerts: POST to action p99 at a steady 1,000 events/s",
    )
]
