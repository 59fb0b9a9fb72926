"""Fill a churnwatch database with N customers for the API and dashboard benchmarks, fast.

``load(dsn, customers=1_000_000, seed=11)`` writes, with COPY (``copy_records_to_table``), what
the API's reads touch, shaped as the services write it:

- ``latest_scores`` (one row per customer; bands, tiers, values and reasons drawn from plausible
  distributions) and ``customer_profiles`` (real encoded profiles, ~400 bytes each);
- ``tasks`` (half the high/critical customers: open, assigned, in progress, or closed over the
  last 180 days), ``exposures`` (one per task), ``score_history`` (two rows per customer);
- ``kpi_daily`` for 180 days (and its ``kpi_day_stamp``) and ``kpi_totals``: the rows the
  scoring worker's pure delta logic (`churnwatch.kpis.batch_deltas`) produces for a day of moves
  and events on 6 partitions, so the set of (cut, cut value, metric, partition) keys per day is
  the real one.

The database is reusable: a marker table records the size and seed loaded, and a second call
with the same ones returns at once (``False``). Ids are ``C-0000000`` … so a benchmark can pick
random customers without reading them. The schema must be migrated first (`upgrade`).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import orjson

SEED = 11
END = datetime(2026, 6, 30, 12, tzinfo=UTC)
"""The newest event time of the loaded history (days before it: 180)."""
DAYS = 180
PARTITIONS = 6
CHUNK = 100_000
MARKER = "bench_api_loaded"
TABLES = ("latest_scores", "customer_profiles", "tasks", "exposures", "score_history",
          "kpi_daily", "kpi_day_stamp", "kpi_totals")  # fmt: skip
BANDS = (0.15, 0.35, 0.6)  # medium, high, critical thresholds (scoring's defaults)
SEGMENTS = ("champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
            "about_to_sleep", "at_risk", "cannot_lose_them", "hibernating", "lost")  # fmt: skip
STAGES = ("new", "active", "repeat", "lapsed", "churned", "reactivated")
SOURCES = ("shop-web", "app", "billing", "crm", "support")
REASONS = [
    orjson.dumps(r).decode()
    for r in (
        [{"feature": "days_since_last_activity", "text": "no activity for 38 days", "weight": .4}],
        [{"feature": "failed_payments_30d", "text": "2 failed payments in 30 days", "weight": .5},
         {"feature": "nps_last", "text": "NPS 3 (detractor)", "weight": .2}],
        [{"feature": "sessions_trend", "text": "sessions down 60% on last month", "weight": .3}],
        [{"feature": "complaints_open", "text": "an unresolved complaint (9 days)", "weight": .4}],
    )
]  # fmt: skip


def customer_id(i: int) -> str:
    """The id of the ``i``-th loaded customer.

    >>> customer_id(42)
    'C-0000042'
    """
    return f"C-{i:07d}"


def load(dsn: str, customers: int = 1_000_000, seed: int = SEED) -> bool:
    """Load ``customers`` into the (migrated) database at ``dsn``; False if already loaded."""
    return asyncio.run(load_async(dsn, customers, seed))


async def load_async(dsn: str, customers: int = 1_000_000, seed: int = SEED) -> bool:
    import asyncpg

    from churnwatch_runtime.db import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(dsn))
    try:
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER} (customers int, seed int, loaded_at timestamptz)"
        )
        if await conn.fetchval(
            f"SELECT count(*) FROM {MARKER} WHERE customers = $1 AND seed = $2", customers, seed
        ):
            return False
        started = time.monotonic()
        await conn.execute(f"TRUNCATE {MARKER}, {', '.join(TABLES)}")
        rng = np.random.default_rng(seed)
        profiles = _profiles(random.Random(seed))
        for lo in range(0, customers, CHUNK):
            await _customers(conn, rng, profiles, lo, min(customers, lo + CHUNK))
        await _kpis(conn, random.Random(seed), customers)
        for table in TABLES:
            await conn.execute(f"VACUUM ANALYZE {table}")
        await conn.execute(f"INSERT INTO {MARKER} VALUES ($1, $2, now())", customers, seed)
        print(f"  loaded {customers:,} customers in {time.monotonic() - started:.0f} s", flush=True)
        return True
    finally:
        await conn.close()


def _profiles(rnd: random.Random, n: int = 64) -> list[bytes]:
    """``n`` real encoded profiles, each fed a few events of the contract's examples."""
    from churnwatch.events import EXAMPLES, EventType, parse_event
    from churnwatch.profile import CustomerProfile, apply

    kinds = [EventType.SESSION, EventType.PURCHASE, EventType.SUPPORT_TICKET, EventType.NPS]
    out = []
    for _ in range(n):
        profile = CustomerProfile()
        at = END - timedelta(days=DAYS)
        for k in range(rnd.randint(3, 12)):
            at += timedelta(days=rnd.uniform(1, 14))
            doc = {
                **EXAMPLES[rnd.choice(kinds)],
                "event_id": f"e-{k}",
                "occurred_at": at.isoformat(),
            }
            apply(profile, parse_event(orjson.dumps(doc), now=END + timedelta(days=1)))
        out.append(profile.to_bytes())
    return out


async def _customers(conn: Any, rng: Any, profiles: list[bytes], lo: int, hi: int) -> None:
    n = hi - lo
    ids = [customer_id(i) for i in range(lo, hi)]
    p = rng.beta(1.2, 5.0, n)
    band = np.select([p >= BANDS[2], p >= BANDS[1], p >= BANDS[0]], ["critical", "high", "medium"],
                     "low")  # fmt: skip
    clv = rng.lognormal(5.5, 1.2, n)
    kept = clv * rng.uniform(0.6, 1.0, n)
    q = rng.random(n)  # tier by rank of value (uniform rank: the same shares as the sketch)
    tier = np.select([q >= 0.95, q >= 0.80, q >= 0.50], ["platinum", "gold", "silver"], "bronze")
    kept = np.sort(kept)[np.argsort(np.argsort(q))]  # value rank agrees with the tier
    var = p * kept
    at_risk = (band == "high") | (band == "critical")
    stage = np.where(at_risk, "at_risk", np.array(STAGES)[rng.integers(0, len(STAGES), n)])
    seg = np.array(SEGMENTS)[rng.integers(0, len(SEGMENTS), n)]
    model = np.where(rng.random(n) < 0.3, "subscription", "retail")
    ago = rng.uniform(0, DAYS * 86400, n)
    reasons = rng.integers(0, len(REASONS), n)
    times = [END - timedelta(seconds=float(s)) for s in ago]
    scores = [
        (ids[k], (lo + k) % PARTITIONS, float(p[k]), str(band[k]), REASONS[reasons[k]],
         float(clv[k]), float(clv[k] * 0.7), float(clv[k] * 1.4), str(tier[k]), str(stage[k]),
         None if k % 10 == 0 else str(seg[k]), float(var[k]), str(model[k]), "learned-v12",
         times[k], "event", f"e-{lo + k}", times[k], float(kept[k]))
        for k in range(n)
    ]  # fmt: skip
    await conn.copy_records_to_table("latest_scores", records=scores, columns=[
        "customer_id", "partition", "churn_probability", "band", "reasons", "clv", "clv_low",
        "clv_high", "tier", "lifecycle_stage", "rfm_segment", "value_at_risk", "business_model",
        "model_version", "event_time", "cause", "cause_event_id", "updated_at",
        "value_if_retained"])  # fmt: skip
    await conn.copy_records_to_table("customer_profiles", columns=[
        "customer_id", "partition", "state", "updated_at"], records=[
        (ids[k], (lo + k) % PARTITIONS, profiles[(lo + k) % len(profiles)], times[k])
        for k in range(n)])  # fmt: skip
    await conn.copy_records_to_table("score_history", columns=[
        "customer_id", "event_time", "churn_probability", "band", "previous_band", "clv",
        "value_at_risk", "model_version", "cause_event_id", "why"], records=[
        row for k in range(n) for row in (
            (ids[k], times[k] - timedelta(days=20), float(p[k]) * 0.5, "low", None,
             float(clv[k]), float(var[k]) * 0.5, "prior-v1", f"e-{lo + k}-0", "first"),
            (ids[k], times[k], float(p[k]), str(band[k]), "low", float(clv[k]), float(var[k]),
             "learned-v12", f"e-{lo + k}", "band_change"))])  # fmt: skip
    await _tasks(conn, rng, [int(k) for k in np.flatnonzero(at_risk) if k % 2 == 0], ids, p, var,
                 tier, times)  # fmt: skip


_TASK_STATES = ("open", "assigned", "in_progress", "won", "lost", "no_contact", "expired")
_TASK_SHARES = (0.3, 0.1, 0.05, 0.2, 0.15, 0.1, 0.1)


async def _tasks(
    conn: Any, rng: Any, rows: Sequence[int], ids: list[str], p: Any, var: Any, tier: Any,
    times: list[datetime],
) -> None:  # fmt: skip
    states = rng.choice(len(_TASK_STATES), size=len(rows), p=_TASK_SHARES)
    tasks, exposures = [], []
    for k, s in zip(rows, states, strict=True):
        state = _TASK_STATES[s]
        created = times[k]
        closed = created + timedelta(hours=float(rng.uniform(1, 96))) if s >= 3 else None
        contact = created + timedelta(hours=float(rng.uniform(0.5, 12))) if s >= 2 else None
        task_id = f"T-{ids[k]}"
        tasks.append((
            task_id, ids[k], "save_call_vip", 1, "save_call", state, float(var[k]), float(var[k]),
            float(p[k]), str(tier[k]), REASONS[1], '["ask about the outage"]', "save",
            f"A-{k % 20}" if s in (1, 2) else None, created + timedelta(hours=8), created,
            contact, closed, state if s in (3, 4, 5) else None, "medium"))  # fmt: skip
        exposures.append((task_id, ids[k], "save_call_vip", 1, "treated", "k", created,
                          str(tier[k]), float(p[k]), float(var[k]) * 2, float(var[k])))  # fmt: skip
    await conn.copy_records_to_table("tasks", records=tasks, columns=[
        "task_id", "customer_id", "playbook_id", "playbook_version", "action_type", "state",
        "priority", "value_at_risk", "churn_probability", "tier", "reasons", "talking_points",
        "team", "assignee", "sla_due_at", "created_at", "first_contact_at", "closed_at",
        "outcome", "recover_band"])  # fmt: skip
    await conn.copy_records_to_table("exposures", records=exposures, columns=[
        "action_id", "customer_id", "playbook_id", "playbook_version", "arm", "trigger_key",
        "exposed_at", "segment", "churn_probability", "clv", "value_at_risk"])  # fmt: skip


def _state(rnd: random.Random, day: date) -> Any:
    from churnwatch.kpis import CustomerState

    value = rnd.lognormvariate(5.5, 1.2)
    p = rnd.betavariate(1.2, 5.0)
    band = ("low", "medium", "high", "critical")[sum(p >= b for b in BANDS)]
    model = "subscription" if rnd.random() < 0.3 else "retail"
    return CustomerState(
        rnd.choice(("platinum", "gold", "silver", "bronze")), rnd.choice((*SEGMENTS, "")),
        rnd.choice((*STAGES, "at_risk")), band, model, value, p * value,
        rnd.uniform(5, 50) if model == "subscription" else 0.0, rnd.randint(0, 2),
        day - timedelta(days=rnd.randint(0, 90)), rnd.randint(1, 5), rnd.randint(1, 5),
    )  # fmt: skip


async def _kpis(conn: Any, rnd: random.Random, customers: int) -> None:
    """180 days of the deltas the scoring worker writes, then the totals of the population."""
    from churnwatch.kpis import EventFact, Move, batch_deltas, contributions

    first = END.date() - timedelta(days=DAYS - 1)
    daily: list[tuple[Any, ...]] = []
    kinds = ("purchase", "purchase", "refund", "subscription_started", "subscription_cancelled",
             "other", "other")  # fmt: skip
    for d in range(DAYS):
        day = first + timedelta(days=d)
        moves = [Move(f"C-{i}", i % PARTITIONS, _state(rnd, day) if i % 3 else None,
                      _state(rnd, day), day) for i in range(600)]  # fmt: skip
        facts = [
            EventFact(f"C-{i}", i % PARTITIONS, kind, day, rnd.choice(SOURCES),
                      rnd.uniform(5, 200), rnd.randint(1, 4), day - timedelta(days=30),
                      rnd.random() < 0.3, rnd.choice(("price", "service", "moved")))
            for i in range(1_500) for kind in [rnd.choice(kinds)]
        ]  # fmt: skip
        daily += [(*key, value) for key, value in batch_deltas(moves, facts).sorted_daily()]
    await conn.copy_records_to_table("kpi_daily", records=daily, columns=[
        "cut", "day", "cut_value", "metric", "partition", "value"])  # fmt: skip
    await conn.execute(  # the days' change stamps, as scoring writes them beside the deltas
        "INSERT INTO kpi_day_stamp (day, partition, version)"
        " SELECT day, partition, pg_current_xact_id()::text::bigint FROM kpi_daily GROUP BY 1, 2"
    )
    sample = 20_000
    totals: dict[tuple[str, str, str, int], float] = {}
    for i in range(sample):
        for (cut, value, metric), x in contributions(_state(rnd, END.date())):
            key = (cut, value, metric, i % PARTITIONS)
            totals[key] = totals.get(key, 0.0) + x * customers / sample
    await conn.copy_records_to_table("kpi_totals", columns=[
        "cut", "cut_value", "metric", "partition", "value"],
        records=[(*k, v) for k, v in sorted(totals.items())])  # fmt: skip
