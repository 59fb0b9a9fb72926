"""API at 1,000,000 customers: p50/p99 of the customer single view, the at-risk list's first
page (filtered by band and tier, sorted by value at risk) and the 90-day KPI series, through the
real API process over HTTP — each beside its bare SQL (the same statements through asyncpg
directly, in the same run) as the ceiling.

The database is a PostgreSQL of its own under ``$CW_HOME/bench/api-pg`` (``var/`` by default),
one database per size, loaded once by `bench.api_load` and reused by later runs (and by the
dashboard benchmark); ``CW_BENCH_API_DATABASE_URL`` points at another one instead.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from bench.api_load import SEED, customer_id, load
from bench.harness import Benchmark, Context, Metric, Reference, Target
from bench.infra import service, wait_ready

CUSTOMERS = 1_000_000
QUICK_CUSTOMERS = 100_000
SAMPLES = {"customer": 2_000, "at_risk": 1_000, "kpi": 300}
WARMUP = 50
KPI_DAYS = 90
COMMAND = "python -m bench --only api"


def _available() -> str | None:
    import importlib.util

    return None if importlib.util.find_spec("churnwatch_api") else "the API is not built yet"


@contextmanager
def loaded_database(customers: int = CUSTOMERS, seed: int = SEED) -> Iterator[str]:
    """The URL of a migrated database holding ``customers`` (loaded now unless it already is);
    the server is stopped on exit, its data kept for the next run."""
    from churnwatch_runtime.db import upgrade

    given = os.environ.get("CW_BENCH_API_DATABASE_URL")
    if given:
        upgrade(given)
        load(given, customers, seed)
        yield given
        return
    from churnwatch_runtime.infra import LocalPostgres
    from churnwatch_runtime.infra._proc import free_port
    from churnwatch_runtime.paths import cw_home

    pg = LocalPostgres(
        home=cw_home() / "bench" / "api-pg", port=free_port(), database=f"api_{customers}"
    )
    pg.start()
    try:
        upgrade(pg.url())
        load(pg.url(), customers, seed)
        yield pg.url()
    finally:
        pg.stop()


def _percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in ms of durations in seconds.

    >>> _percentiles([i / 1000 for i in range(1, 101)])
    (51.0, 100.0)
    """
    s = sorted(samples)
    return s[len(s) // 2] * 1000, s[min(len(s) - 1, int(0.99 * len(s)))] * 1000


async def _timed(
    n: int, call: Callable[[int], Awaitable[Any]],
    prepare: Callable[[int], Awaitable[Any]] | None = None,
) -> list[float]:  # fmt: skip
    """``call(i)`` for i < WARMUP (not kept), then ``n`` timed calls one after the other;
    ``prepare(i)`` before each, not timed."""
    for i in range(WARMUP):
        if prepare is not None:
            await prepare(-1 - i)
        await call(-1 - i)
    out = []
    for i in range(n):
        if prepare is not None:
            await prepare(i)
        t = time.perf_counter()
        await call(i)
        out.append(time.perf_counter() - t)
    return out


def _run(ctx: Context) -> list[Metric]:
    customers = QUICK_CUSTOMERS if ctx.quick else CUSTOMERS
    with loaded_database(customers) as url:
        return asyncio.run(_measure(ctx, url, customers))


async def _key(url: str) -> str:
    from churnwatch_api.store.keys import create_key
    from churnwatch_runtime.db import make_engine

    engine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            _, key = await create_key(conn, name=f"bench-{int(time.time())}", scopes=["read"])
    finally:
        await engine.dispose()
    return key


async def _measure(ctx: Context, url: str, customers: int) -> list[Metric]:
    import asyncpg
    import httpx

    from bench import api_sql
    from churnwatch_runtime.db import asyncpg_dsn
    from churnwatch_runtime.infra._proc import free_port

    port, key = free_port(), await _key(url)
    env = {**os.environ, "DATABASE_URL": url, "CW_API_PORT": str(port),
           "CW_API_HOST": "127.0.0.1", "CW_API_RATE_LIMIT_PER_S": "0", "CW_LOG_LEVEL": "WARNING",
           "CW_LOG_JSON": "false"}  # fmt: skip
    rnd = random.Random(SEED)
    n = {k: v // (4 if ctx.quick else 1) for k, v in SAMPLES.items()}
    ids = [customer_id(rnd.randrange(customers)) for _ in range(max(n.values()) + WARMUP)]
    filters = [(bands, tier) for bands in (["high"], ["critical"], ["high", "critical"])
               for tier in ("platinum", "gold", "silver", "bronze")]  # fmt: skip
    pg = await asyncpg.connect(asyncpg_dsn(url))
    last = await pg.fetchval("SELECT max(day) FROM kpi_daily WHERE cut = 'all'")
    first = last - timedelta(days=KPI_DAYS - 1)
    # a live scoring worker writes the newest days and, with conversions, older cohort days
    # between two requests: before each request the stamps of the newest two days and one
    # random day of the window move (untimed), so the API re-reads three days of deltas
    changed = [[last, last - timedelta(days=1), first + timedelta(days=rnd.randrange(KPI_DAYS))]
               for _ in range(n["kpi"] + WARMUP)]  # fmt: skip

    async def touch(i: int) -> None:
        await api_sql.touch(pg, changed[i])

    sql: dict[str, list[float]] = {
        "customer": await _timed(n["customer"], lambda i: api_sql.customer(pg, ids[i])),
        "at_risk": await _timed(
            n["at_risk"], lambda i: api_sql.at_risk(pg, *filters[i % len(filters)])
        ),
        "kpi": await _timed(n["kpi"], lambda i: api_sql.kpis(pg, first, last, changed[i]), touch),
        "kpi_steady": await _timed(n["kpi"], lambda i: api_sql.kpis(pg, first, last, [])),
    }
    with service(ctx, ["churnwatch_api"], env, "api.log") as proc:
        await wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        ) as client:  # fmt: skip

            async def get(path: str, params: Any = None) -> None:
                r = await client.get(path, params=params)
                if r.status_code != 200:
                    raise RuntimeError(f"GET {path}: {r.status_code} {r.text[:300]}")

            def page(i: int) -> dict[str, Any]:
                bands, tier = filters[i % len(filters)]
                return {"band": bands, "tier": tier, "sort": "value_at_risk", "limit": 50}

            window = {"from": str(first), "to": str(last)}
            http = {
                "customer": await _timed(n["customer"], lambda i: get(f"/v1/customers/{ids[i]}")),
                "at_risk": await _timed(n["at_risk"], lambda i: get("/v1/at-risk", page(i))),
                "kpi": await _timed(n["kpi"], lambda i: get("/v1/kpis", window), touch),
                "kpi_steady": await _timed(n["kpi"], lambda i: get("/v1/kpis", window)),
            }
    await pg.close()
    return _metrics(http, sql, n, customers)


_WHAT = {
    "customer": ("api_customer_p99_ms", 20, "GET /v1/customers/{id} of random customers (score, "
                 "profile, tasks, actions)"),
    "at_risk": ("api_at_risk_p99_ms", 50, "GET /v1/at-risk first page (50) filtered by band and "
                "tier, sorted by value at risk (12 filter combinations in turn)"),
    "kpi": ("api_kpi_p99_ms", 200, f"GET /v1/kpis for {KPI_DAYS} days, cut all (every KPI's "
            "daily series), three days' stamps moved before each request as a live scoring "
            "worker would (the API re-reads those days' deltas, the rest from its day cache)"),
}  # fmt: skip


def _metrics(
    http: dict[str, list[float]], sql: dict[str, list[float]], n: dict[str, int], customers: int
) -> list[Metric]:
    out = []
    for what, (name, cap, desc) in _WHAT.items():
        p50, p99 = _percentiles(http[what])
        s50, s99 = _percentiles(sql[what])
        steady = ""
        if what == "kpi":
            h50, h99 = _percentiles(http["kpi_steady"])
            q50, q99 = _percentiles(sql["kpi_steady"])
            steady = (f" With no stamp moved (every day from the cache): p50 {h50:.1f} ms, p99 "
                      f"{h99:.1f} ms; bare SQL p50 {q50:.2f} ms, p99 {q99:.2f} ms.")  # fmt: skip
        out.append(Metric(
            name, round(p99, 1), "ms", COMMAND, target=Target("<=", cap),
            ceiling=Reference("bare SQL p99 (asyncpg, same statements)", round(s99, 2), "ms"),
            notes=(f"{desc}; {n[what]:,} requests one after the other over HTTP/1.1 keep-alive "
                   f"to `python -m churnwatch_api` (uvicorn, key with scope read) after "
                   f"{WARMUP} warm-up ones; p50 {p50:.1f} ms. Bare SQL in the same run: p50 "
                   f"{s50:.2f} ms, p99 {s99:.2f} ms.{steady} {customers:,} customers loaded by "
                   "bench/api_load.py (latest_scores, customer_profiles, tasks, exposures, "
                   "score_history, 180 days of kpi_daily and kpi_day_stamp, kpi_totals); the "
                   "API, PostgreSQL and the client share this 2-core machine."),
        ))  # fmt: skip
    return out


BENCHMARKS = [
    Benchmark(
        name="api",
        run=_run,
        available=_available,
        description="API at 1M customers: single view, at-risk first page, 90-day KPIs (p99)",
    )
]
