"""Alerts: scores/s through one real alerts process (consume → state committed → actions relayed).

Score records in the scoring service's exact format (`churnwatch_scoring.records.ScoreRecord` →
`score_message`, with its ``cw-msg-id`` header) are produced to a topic first: ``CUSTOMERS``
customers, each with a random walk of its churn probability over event time (so bands are
entered and left, and the six default playbooks fire at a realistic rate), tiers by a fixed
CLV, consenting profiles in ``customer_profiles`` as scoring would have stored them. Then one
``python -m churnwatch_alerts`` process (worker + outbox relay + webhook dispatcher + uplift job
+ health app; no webhook endpoints configured) consumes them. The rate runs from the first
committed batch to the last offset committed with the outbox empty (every action relayed to
``cw.actions``). Infra as in bench_scoring: a broker and PostgreSQL started for the run, or
``CW_BENCH_KAFKA_BOOTSTRAP`` and ``CW_BENCH_DATABASE_URL``.

``event_to_task_p99_ms`` (ingest → scoring → alerts at 1,000 events/s) is not measured here.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.harness import Benchmark, Context, Metric, Target
from bench.infra import infra, service_available, wait_for_worker

SEED = 7
CUSTOMERS = 20_000
SCORES = 150_000
QUICK_SCORES = 40_000
PARTITIONS = 6
START = datetime(2026, 1, 5, tzinfo=UTC)
TIERS = ("bronze", "silver", "gold", "platinum")
TIER_WEIGHTS = (0.5, 0.3, 0.15, 0.05)  # docs/kpis.md tier cuts


def _available() -> str | None:
    return service_available("churnwatch_alerts.app", "churnwatch_alerts")


@dataclass(frozen=True, slots=True)
class Workload:
    """The produced records, ``(customer id, cw-msg-id, value)`` in event-time order."""

    records: list[tuple[str, str, bytes]]
    customers: list[str]


def workload(customers: int, scores: int, seed: int = SEED) -> Workload:
    """Score records of ``customers`` (see the module docstring), ``scores`` in all."""
    from churnwatch.model import band_for
    from churnwatch.profile import Reason
    from churnwatch_scoring.records import ScoreRecord, score_message, score_msg_id

    rng = random.Random(seed)
    ids = [f"C-{i:06d}" for i in range(customers)]
    logit = {c: rng.gauss(-3.0, 1.0) for c in ids}
    tier = {c: rng.choices(TIERS, TIER_WEIGHTS)[0] for c in ids}
    clv = {c: 50.0 * (1 + TIERS.index(tier[c])) ** 2 * rng.uniform(0.8, 1.2) for c in ids}
    retail = {c: rng.random() < 0.6 for c in ids}
    reason = (Reason("activity_recency_days", 0.4, "no activity for 21 days"),)
    span = timedelta(days=90).total_seconds()
    out: list[tuple[str, str, bytes]] = []
    for n in range(scores):
        c = rng.choice(ids)
        logit[c] += rng.gauss(0.0, 0.3)
        logit[c] = min(max(logit[c], -6.0), 3.0)
        p = 1.0 / (1.0 + pow(2.718281828459045, -logit[c]))
        at = START + timedelta(seconds=span * n / scores)
        band = band_for(p).value
        rec = ScoreRecord(
            customer_id=c,
            partition=0,
            churn_probability=p,
            band=band,
            reasons=reason,
            clv=clv[c],
            value_if_retained=0.0,
            tier=tier[c],
            lifecycle_stage="at_risk" if band in ("high", "critical") else "active",
            value_at_risk=p * clv[c],
            business_model="retail" if retail[c] else "subscription",
            model_version="prior-v1",
            event_time=at,
            cause="event",
            cause_event_id=f"ev-{n}",
        )
        out.append((c, score_msg_id(rec), score_message(rec)))
    return Workload(out, ids)


async def _produce(bootstrap: str, topic: str, records: list[tuple[str, str, bytes]]) -> None:
    from churnwatch_runtime.kafka import make_producer
    from churnwatch_runtime.worker import MSG_ID_HEADER

    producer = make_producer(bootstrap, linger_ms=50)
    await producer.start()
    try:
        pending = []
        for key, msg_id, value in records:
            headers = [(MSG_ID_HEADER, msg_id.encode())]
            pending.append(await producer.send(topic, value, key=key.encode(), headers=headers))
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _seed_profiles(db_url: str, customers: list[str]) -> None:
    """Consenting profiles (phone and e-mail), as scoring would have stored them."""
    import asyncpg

    from churnwatch.profile import CustomerProfile
    from churnwatch_runtime.db import asyncpg_dsn

    seen = int(START.timestamp()) - 200 * 86_400
    state = CustomerProfile(
        first_seen=seen, last_activity=seen, consent_phone=1, consent_phone_at=seen,
        consent_email=1, consent_email_at=seen,
    ).to_bytes()  # fmt: skip
    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await conn.executemany(
            "INSERT INTO customer_profiles (customer_id, partition, state, updated_at)"
            " VALUES ($1, 0, $2, now()) ON CONFLICT (customer_id) DO NOTHING",
            [(c, state) for c in customers],
        )
    finally:
        await conn.close()


async def _counts(db_url: str) -> dict[str, int]:
    import asyncpg

    from churnwatch_runtime.db import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        out = {}
        for table in ("tasks", "exposures", "suppressions", "treatments"):
            out[table] = int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
        return out
    finally:
        await conn.close()


async def _measure(ctx: Context, bootstrap: str, db_url: str, load: Workload) -> list[Metric]:
    from churnwatch_runtime.infra._proc import free_port
    from churnwatch_runtime.kafka import ensure_topics

    tag = f"b{int(time.time())}"
    scores, actions = f"bench.{tag}.scores", f"bench.{tag}.actions"
    await ensure_topics(bootstrap, [scores, actions], partitions=PARTITIONS)
    await _seed_profiles(db_url, load.customers)
    await _produce(bootstrap, scores, load.records)
    group = f"bench-alerts-{tag}"
    env = dict(os.environ)
    env.update(
        CW_KAFKA_BOOTSTRAP=bootstrap, DATABASE_URL=db_url, CW_TOPIC_SCORES=scores,
        CW_TOPIC_ACTIONS=actions, CW_ALERTS_GROUP_ID=group, CW_ALERTS_PORT=str(free_port()),
        CW_LOG_LEVEL="WARNING",
    )  # fmt: skip
    total = len(load.records)
    with (ctx.workdir / "alerts.log").open("wb") as log:
        proc = subprocess.Popen(
            [ctx.python, "-m", "churnwatch_alerts"], env=env, stdout=log, stderr=log, cwd=ctx.root
        )
        try:
            first_at, first_n = await wait_for_worker(
                db_url, group, lambda n, _: n > 0, proc, name="alerts"
            )
            end_at, _ = await wait_for_worker(
                db_url, group, lambda n, o: n >= total and o == 0, proc, name="alerts"
            )
        finally:
            proc.terminate()
            proc.wait(60)
    rate = (total - first_n) / (end_at - first_at)
    rows = await _counts(db_url)
    return [
        Metric(
            "alerts_scores_per_s",
            round(rate),
            "scores/s",
            "python -m bench --only alerts" + (" --quick" if ctx.quick else ""),
            target=Target(">=", 5_000),
            notes=(
                f"{total:,} cw.scores records (scoring's format; {len(load.customers):,} "
                f"customers, random-walk probabilities, consenting profiles) pre-produced to "
                f"{PARTITIONS} partitions; one `python -m churnwatch_alerts` process (worker, "
                f"outbox relay, webhook dispatcher with no endpoints, uplift job); from the first "
                f"committed batch to the last offset committed with the outbox empty (actions "
                f"relayed to cw.actions). It wrote {rows['tasks']:,} tasks, {rows['treatments']:,} "
                f"actions, {rows['exposures']:,} exposures, {rows['suppressions']:,} "
                f"suppressions. Kafka, PostgreSQL and the process share this 2-core machine."
            ),
        )
    ]


def _run(ctx: Context) -> list[Metric]:

    load = workload(CUSTOMERS, QUICK_SCORES if ctx.quick else SCORES)
    with infra(ctx) as (bootstrap, db_url):
        return asyncio.run(_measure(ctx, bootstrap, db_url, load))


BENCHMARKS = [
    Benchmark(
        name="alerts",
        run=_run,
        available=_available,
        description="alerts service: scores/s, consume → state committed → actions relayed",
    )
]
