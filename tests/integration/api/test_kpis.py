"""KPI aggregates end to end: known events → the real scoring worker (real broker, real
PostgreSQL) → ``kpi_daily`` / ``kpi_totals`` / ``quality_daily`` → ``GET /v1/kpis…``.

Expected figures are worked out by hand from the definitions in kpis.md (comments below);
the snapshot totals are also recomputed from scratch from ``latest_scores`` and
``lifecycle_transitions`` and must equal the incremental ones.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.events import EventType
from tests.integration.api.support import bearer
from tests.integration.scoring.support import (
    EventFactory,
    processor,
    produce_events,
    rows,
    run_until_consumed,
)
from tests.support.infra import Broker, unique

pytestmark = pytest.mark.integration

Topic = Callable[..., Awaitable[str]]
MakeKey = Callable[..., Awaitable[str]]
D0 = date(2026, 1, 5)  # T0's day: day n of the factory is D0 + n


def day(n: int) -> str:
    return date.fromordinal(D0.toordinal() + n).isoformat()


def known_events(f: EventFactory) -> list[dict[str, Any]]:
    def src(doc: dict[str, Any], source: str) -> dict[str, Any]:
        return {**doc, "source": source}

    a2 = src(f.purchase("A", 10.0, "60.00"), "shop-web")
    return [
        src(f.purchase("A", 0.0, "40.00"), "shop-web"),  # A's first purchase (day 0)
        src(f.purchase("B", 1.0, "30.00"), "shop-web"),  # B's first and only
        src(f.purchase("C", 2.0, "50.00"), "app"),  # C's first
        src(f.make("D", EventType.SUBSCRIPTION_STARTED, 3.0, price="9.99"), "billing"),
        a2,  # A's second, 10 days after the first: converted
        a2,  # the same event again: a duplicate changes nothing
        src(f.purchase("A", 10.5, "20.00"), "app"),  # A's third, same day (21:00 UTC)
        src(f.make("A", EventType.REFUND, 12.0, amount="10.00"), "billing"),
        src(f.make("D", EventType.SUBSCRIPTION_CANCELLED, 20.0, exit_reason="price"), "billing"),
        src(f.purchase("C", 100.0, "50.00"), "app"),  # C's second, 98 days on: not converted
        src(f.session("B", 0.5), "late-app"),  # 99.5 days behind the watermark: late
    ]


async def test_kpis_from_known_events_through_scoring(
    db: AsyncEngine,
    kafka: Broker,
    topic_factory: Topic,
    api_client: httpx.AsyncClient,
    make_key: MakeKey,
) -> None:
    topic = await topic_factory("kpi.events", partitions=1)  # one partition: one watermark
    total = await produce_events(kafka.bootstrap, topic, known_events(EventFactory(unique("k"))))
    proc = processor(unique("g"))
    await run_until_consumed(db, proc, bootstrap=kafka.bootstrap, topic=topic, total=total,
                             max_records=3)  # fmt: skip

    flows = await daily(db, "all")
    # revenue: 40 + 30 + 50 + 60 + 20 + 50 − 10 (refund) = 240; purchases 6 (not 7: duplicate)
    assert sum(v for (_, m), v in flows.items() if m == "revenue") == pytest.approx(240.0)
    assert sum(v for (_, m), v in flows.items() if m == "purchases") == 6
    # cohorts: A (day 0) converted on day 10; B (day 1) never; C (day 2) too late (98 d)
    assert flows[(day(0), "first_purchases")] == 1
    assert flows[(day(0), "converted")] == 1
    assert flows[(day(2), "first_purchases")] == 1
    assert (day(2), "converted") not in flows
    # day 10: A's 2nd and 3rd purchases (60 + 20) by one repeat customer
    assert flows[(day(10), "repeat_purchases")] == 2
    assert flows[(day(10), "repeat_revenue")] == pytest.approx(80.0)
    assert flows[(day(10), "repeat_active")] == 1
    assert flows[(day(12), "revenue")] == pytest.approx(-10.0)
    assert flows[(day(20), "exit:price")] == 1
    assert flows[(day(3), "subscriptions_started")] == 1
    by_source = await daily(db, "source", by_value=True)
    revenue = {cv: 0.0 for cv in ("shop-web", "app", "billing")}
    for (_, cv, m), v in by_source.items():
        if m == "revenue":
            revenue[cv] += v
    assert revenue == pytest.approx({"shop-web": 130.0, "app": 120.0, "billing": -10.0})

    await recomputed_equals_incremental(db)
    late = await rows(db, "SELECT source, outcome, count FROM quality_daily")
    assert late == [{"source": "late-app", "outcome": "late", "count": 1}]

    key = await make_key(["read"])
    r = await api_client.get("/v1/kpis", params={"from": day(0), "to": day(20)})
    assert r.status_code == 401
    r = await api_client.get(
        "/v1/kpis", params={"from": day(0), "to": day(20)}, headers=bearer(key)
    )
    assert r.status_code == 200, r.text
    kpis = {k["name"]: k for k in r.json()["kpis"]}
    assert kpis["repeat_conversion_rate"]["unit"] == "share"
    assert "second purchase within 90 days" in kpis["repeat_conversion_rate"]["definition"]
    assert point(kpis["repeat_conversion_rate"], "all", day(0)) == 1.0
    assert point(kpis["repeat_conversion_rate"], "all", day(1)) == 0.0
    assert point(kpis["transactions_per_repeat_customer"], "all", day(10)) == 2.0
    assert point(kpis["revenue_per_repeat_transaction"], "all", day(10)) == pytest.approx(40.0)
    assert point(kpis["revenue_per_repeat_transaction"], "all", day(9)) is None

    r = await api_client.get("/v1/kpis", params={"cut": "source", "from": day(0), "to": day(20)},
                             headers=bearer(key))  # fmt: skip
    names = {k["name"] for k in r.json()["kpis"]}
    assert "revenue" in names
    assert "value_at_risk" not in names
    assert any(n["name"] == "value_at_risk" for n in r.json()["not_available"])
    r = await api_client.get("/v1/kpis", params={"from": day(5), "to": day(1)}, headers=bearer(key))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "query.from"

    funnel = (await api_client.get("/v1/kpis/funnel", params={"from": day(0), "to": day(120)},
                                   headers=bearer(key))).json()  # fmt: skip
    assert funnel["exit_reasons"] == [{"reason": "price", "cancellations": 1}]
    tiers = (await api_client.get("/v1/kpis/tiers", headers=bearer(key))).json()
    assert sum(t["customers"] for t in tiers["tiers"]) == 4  # A, B, C, D
    rfm = (await api_client.get("/v1/kpis/rfm", headers=bearer(key))).json()
    assert len(rfm["grid"]) == 25
    far = {"from": "2000-01-01", "to": "2100-01-01"}
    quality = await api_client.get("/v1/quality", params=far, headers=bearer(key))
    assert quality.status_code == 422  # more than 366 days
    model = await api_client.get("/v1/model", headers=bearer(key))
    assert model.status_code == 200
    assert model.json()["serving"] is None


def point(kpi: dict[str, Any], cut_value: str, on: str) -> float | None:
    series = next(s for s in kpi["series"] if s["cut_value"] == cut_value)
    value: float | None = next(p["value"] for p in series["points"] if p["day"] == on)
    return value


async def daily(engine: AsyncEngine, cut: str, by_value: bool = False) -> dict[Any, float]:
    got = await rows(
        engine,
        "SELECT day, cut_value, metric, sum(value) AS v FROM kpi_daily WHERE cut = :c"
        " GROUP BY 1, 2, 3",
        c=cut,
    )
    if by_value:
        return {(r["day"].isoformat(), r["cut_value"], r["metric"]): r["v"] for r in got}
    return {(r["day"].isoformat(), r["metric"]): r["v"] for r in got}


async def recomputed_equals_incremental(engine: AsyncEngine) -> None:
    """The running totals equal a from-scratch aggregation of what scoring stored."""
    totals = {
        (r["cut"], r["cut_value"], r["metric"]): r["v"]
        for r in await rows(
            engine,
            "SELECT cut, cut_value, metric, sum(value) AS v FROM kpi_totals GROUP BY 1, 2, 3",
        )
    }
    scratch = await rows(
        engine,
        "SELECT tier, coalesce(rfm_segment, 'none') AS seg, lifecycle_stage AS stage,"
        " count(*) AS n, sum(value_at_risk) AS var, sum(value_if_retained) AS val"
        " FROM latest_scores GROUP BY 1, 2, 3",
    )
    expect: dict[tuple[str, str, str], float] = {}
    for r in scratch:
        for cut, cv in (("all", "all"), ("tier", r["tier"]), ("segment", r["seg"])):
            for metric, x in (("customers", r["n"]), (f"stage:{r['stage']}", r["n"]),
                              ("value_at_risk", r["var"]), ("value", r["val"])):  # fmt: skip
                expect[(cut, cv, metric)] = expect.get((cut, cv, metric), 0.0) + float(x)
    for k, v in expect.items():
        assert totals.get(k, 0.0) == pytest.approx(v, abs=1e-6), k
    counted = {
        k: v for k, v in totals.items() if k[2] in ("customers",) or k[2].startswith("stage:")
    }
    assert {k for k, v in counted.items() if abs(v) > 1e-9} == {
        k for k, v in expect.items() if k[2] == "customers" or k[2].startswith("stage:")
    }
    transitions = await rows(
        engine, "SELECT stage, count(*) AS n FROM lifecycle_transitions GROUP BY stage"
    )
    entered = await daily(engine, "all")
    for t in transitions:
        assert sum(v for (_, m), v in entered.items() if m == f"entered:{t['stage']}") == t["n"]
