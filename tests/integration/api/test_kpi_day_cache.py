"""``GET /v1/kpis`` caches each day's deltas with the day's change stamp: a write to a day
already served (a late event, a conversion added to an old cohort day) is seen at the next
request, through the scoring hook's own statement (``kpi_store.write_batch``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.db import raw_connection
from churnwatch_scoring import kpi_store
from tests.integration.api.support import bearer

pytestmark = pytest.mark.integration

MakeKey = Callable[..., Awaitable[str]]
D0 = date(2026, 1, 5)


async def add(engine: AsyncEngine, day: date, part: int, **flows: float) -> None:
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        await kpi_store.write_batch(
            pg, sorted((("all", day, "all", m, part), v) for m, v in flows.items()), [], []
        )


def revenue(body: dict[str, Any]) -> list[float | None]:
    kpi = next(k for k in body["kpis"] if k["name"] == "revenue")
    return [p["value"] for p in kpi["series"][0]["points"]]


async def test_a_write_to_a_served_day_is_seen_at_the_next_request(
    api_engine: AsyncEngine, api_client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key(["read"])
    window = {"from": D0.isoformat(), "to": (D0 + timedelta(days=2)).isoformat()}
    await add(api_engine, D0, 0, revenue=10.0)
    await add(api_engine, D0 + timedelta(days=2), 1, revenue=5.0)

    async def get() -> list[float | None]:
        r = await api_client.get("/v1/kpis", params=window, headers=bearer(key))
        assert r.status_code == 200, r.text
        return revenue(r.json())

    assert await get() == [10.0, 0.0, 5.0]
    assert await get() == [10.0, 0.0, 5.0]  # from the cache
    await add(api_engine, D0, 0, revenue=2.5)  # the same partition's row of an old day
    await add(api_engine, D0 + timedelta(days=1), 3, revenue=1.0)  # a day without rows
    assert await get() == [12.5, 1.0, 5.0]
    async with api_engine.connect() as conn:
        pg = await raw_connection(conn)
        stamps = await pg.fetch("SELECT day, partition FROM kpi_day_stamp ORDER BY 1, 2")
    assert [(r[0], r[1]) for r in stamps] == [
        (D0, 0), (D0 + timedelta(days=1), 3), (D0 + timedelta(days=2), 1)
    ]  # fmt: skip
