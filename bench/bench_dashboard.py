"""``dashboard_at_risk_load_ms``: the at-risk page in a real browser over 1,000,000 customers.

PostgreSQL (``CW_BENCH_DATABASE_URL`` or one started for the run) is filled by the API bench
loader (`bench.api_load`, reused when already loaded); the real API serves it on a free port
and Debian's chromium (Playwright, headless) opens ``/at-risk`` again and again with a logged-in
session. Each load is timed in the page, from the navigation's start (``performance.timeOrigin``)
until the list's first page is in the DOM (``#list[data-rendered]``, set after the table is
built) — HTML, modules, ``/v1/me`` and ``/v1/at-risk`` included. The ceiling measured in the
same run is the bare ``GET /v1/at-risk`` (first page, default filter and sort) from Python.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench.harness import Benchmark, Context, Metric, Reference, Target

COMMAND = "python -m bench --only dashboard"
LOADS, QUICK_LOADS = 40, 10
CUSTOMERS, QUICK_CUSTOMERS = 1_000_000, 50_000


def _available() -> str | None:
    from tests.e2e.browser import INSTALL_HINT, chromium_path

    if chromium_path() is None:
        return f"no chromium; {INSTALL_HINT}"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make bootstrap)"
    return None


@contextmanager
def _database(ctx: Context) -> Iterator[str]:
    import os

    given = os.environ.get("CW_BENCH_DATABASE_URL")
    if given:
        yield given
        return
    from churnwatch_runtime.db import upgrade
    from churnwatch_runtime.infra import LocalPostgres
    from churnwatch_runtime.infra._proc import free_port

    pg = LocalPostgres(home=ctx.workdir / "pg", port=free_port())
    pg.start()
    try:
        upgrade(pg.url())
        yield pg.url()
    finally:
        pg.stop()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _measure(url: str, key: str, loads: int) -> tuple[list[float], list[float]]:
    import httpx
    from playwright.async_api import async_playwright

    from tests.e2e.browser import launch_options

    page_ms: list[float] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(**launch_options())
        context = await browser.new_context(base_url=url, viewport={"width": 1366, "height": 900})
        login = await context.request.post("/v1/session", data={"key": key})
        assert login.ok, await login.text()
        page = await context.new_page()
        await page.goto("/at-risk")  # warm-up: the browser's first navigation starts its
        await page.wait_for_selector("#list[data-rendered]", state="attached")  # network stack
        for _ in range(loads):
            await page.goto("/at-risk")
            await page.wait_for_selector("#list[data-rendered]", state="attached")
            rendered = float(await page.get_attribute("#list", "data-rendered") or 0)
            origin = float(await page.evaluate("() => performance.timeOrigin"))
            page_ms.append(rendered - origin)
        await browser.close()
    api_ms: list[float] = []
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}) as c:
        for _ in range(loads):
            t0 = time.perf_counter()
            r = await c.get("/v1/at-risk", params={"limit": 50})
            r.raise_for_status()
            api_ms.append((time.perf_counter() - t0) * 1000)
    return page_ms, api_ms


async def _key(db_url: str) -> str:
    from churnwatch_api.store.keys import create_key
    from churnwatch_runtime.db import make_engine

    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            _, key = await create_key(conn, name="bench-dashboard", scopes=["read"])
        return key
    finally:
        await engine.dispose()


def run(ctx: Context) -> list[Metric]:
    from bench.api_load import load
    from tests.e2e.browser import live_api

    customers = QUICK_CUSTOMERS if ctx.quick else CUSTOMERS
    loads = QUICK_LOADS if ctx.quick else LOADS
    with _database(ctx) as db_url:
        load(db_url, customers)
        key = asyncio.run(_key(db_url))
        with live_api(db_url) as api:
            page_ms, api_ms = asyncio.run(_measure(api.url, key, loads))
    p95 = _pct(page_ms, 0.95)
    return [
        Metric(
            "dashboard_at_risk_load_ms",
            round(p95, 1),
            "ms",
            COMMAND,
            ceiling=Reference("GET /v1/at-risk first page p95", round(_pct(api_ms, 0.95), 1), "ms"),
            target=Target("<=", 1000),
            notes=f"p95 of {loads} loads of /at-risk in headless chromium over {customers:,}"
            f" customers after one warm-up load (median {statistics.median(page_ms):.0f} ms;"
            " navigation start → first page of the list in the DOM; static files revalidated"
            " by ETag as a returning user's browser does)",
        )
    ]


BENCHMARKS = [
    Benchmark(
        "dashboard",
        run,
        available=_available,
        description="the at-risk page in a real browser over 1M customers (API bench loader)",
    )
]
