"""The KPI delta logic against figures worked out by hand from kpis.md (not from the code)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from churnwatch.events import EXAMPLES, EventType, parse_event
from churnwatch.kpis import (
    CustomerState,
    EventFact,
    Move,
    batch_deltas,
    capture,
    event_flows,
    levels,
    series,
)
from churnwatch.profile import CustomerProfile, apply

D = date(2026, 3, 2)
GOLD = CustomerState("gold", "loyal", "active", "low", "retail", 100.0, 10.0, 0.0, 1, D)


def test_a_new_customer_adds_one_everywhere_it_is_counted() -> None:
    out = batch_deltas([Move("C", 0, None, GOLD, D)], [])
    for cut, value in (("all", "all"), ("tier", "gold"), ("segment", "loyal")):
        assert out.totals[(cut, value, "customers", 0)] == 1.0
        assert out.totals[(cut, value, "value", 0)] == 100.0
        assert out.totals[(cut, value, "value_at_risk", 0)] == 10.0
        assert out.totals[(cut, value, "buyers", 0)] == 1.0
        assert out.totals[(cut, value, "active_retail", 0)] == 1.0
        assert out.daily[(cut, D, value, "entered:active", 0)] == 1.0
    assert ("all", "all", "repeaters", 0) not in out.totals


def test_a_tier_move_moves_the_customer_and_its_value() -> None:
    # gold → silver, value at risk 10 → 40, value 100 → 80, now at risk
    new = replace(GOLD, tier="silver", stage="at_risk", band="high", value=80.0, value_at_risk=40.0)
    out = batch_deltas([Move("C", 0, GOLD, new, D)], [])
    assert out.totals[("tier", "gold", "customers", 0)] == -1.0
    assert out.totals[("tier", "silver", "customers", 0)] == 1.0
    assert out.totals[("tier", "gold", "value_at_risk", 0)] == -10.0
    assert out.totals[("tier", "silver", "value_at_risk", 0)] == 40.0
    assert out.totals[("all", "all", "value_at_risk", 0)] == 30.0
    assert out.totals[("all", "all", "value", 0)] == -20.0
    assert ("all", "all", "customers", 0) not in out.totals
    assert out.daily[("all", D, "all", "entered:at_risk", 0)] == 1.0
    assert out.daily[("tier", D, "gold", "entered:at_risk", 0)] == 1.0  # cut by the old tier


def test_subscription_churn_and_net_revenue_retention() -> None:
    sub = CustomerState("bronze", "", "active", "low", "subscription", 50.0, 5.0, 10.0)
    up = replace(sub, mrr=12.0)  # an upgrade 10 → 12
    gone = replace(up, stage="churned", mrr=0.0)
    a = batch_deltas([Move("S", 1, sub, up, D)], [])
    assert a.daily[("all", D, "all", "mrr_change_existing", 1)] == 2.0
    b = batch_deltas([Move("S", 1, up, gone, D)], [])
    assert b.daily[("all", D, "all", "mrr_change_existing", 1)] == -12.0
    assert b.daily[("all", D, "all", "churned_subscriptions", 1)] == 1.0
    assert b.totals[("all", "all", "subscribers", 1)] == -1.0
    # a brand-new subscriber is not "present at the start": no NRR change
    c = batch_deltas([Move("T", 1, None, sub, D)], [])
    assert ("all", D, "all", "mrr_change_existing", 1) not in c.daily


def test_purchases_give_conversion_repeat_base_and_order_value() -> None:
    d1, d30 = D, D + timedelta(days=29)
    facts = [
        EventFact("C", 0, "purchase", d1, "web", 40.0, 1, d1),
        EventFact("C", 0, "purchase", d30, "web", 60.0, 2, d1, converted=True),
        EventFact("C", 0, "purchase", d30, "app", 20.0, 3, d1),
        EventFact("C", 0, "refund", d30, "web", 5.0),
        EventFact("C", 0, "subscription_cancelled", d30, "web", reason="price"),
    ]
    new = replace(GOLD, purchases=2, last_purchase=d30)
    out = batch_deltas([Move("C", 0, None, new, d30)], facts)
    f = {(k[1], k[3]): v for k, v in out.daily.items() if k[0] == "all"}
    assert f[(d1, "first_purchases")] == 1.0
    assert f[(d1, "converted")] == 1.0  # cohort of the first purchase's day
    assert f[(d30, "repeat_purchases")] == 2.0
    assert f[(d30, "repeat_active")] == 1.0  # one repeat customer that day
    assert f[(d30, "repeat_revenue")] == 80.0
    assert f[(d30, "revenue")] == 75.0  # 60 + 20 − 5
    assert f[(d30, "exit:price")] == 1.0
    assert out.daily[("source", d30, "app", "revenue", 0)] == 20.0
    # the KPIs of day 30: 2 purchases / 1 repeat customer; 80 / 2 per transaction
    days = [d1, d30]
    flows = {(k[1], k[2], k[3]): v for k, v in out.daily.items() if k[0] == "all"}
    now = {(k[1], k[2]): v for k, v in out.totals.items() if k[0] == "all"}
    got = {
        k.name: v["all"] for k, v in series("all", ["all"], days, flows, levels(now, flows, days))
    }
    assert got["repeat_conversion_rate"] == [1.0, None]
    assert got["transactions_per_repeat_customer"] == [None, 2.0]
    assert got["revenue_per_repeat_transaction"] == [None, 40.0]
    assert got["repeat_customer_base"] == [None, 1.0]  # 1 repeater / 1 buyer at the end of day 30


def test_end_of_day_levels_and_churn_rates() -> None:
    d1, d2, d3 = D, D + timedelta(days=1), D + timedelta(days=2)
    # 4 retail customers active at the end of d1; one lapses on d2; now 3 active
    now = {("all", "active_retail"): 3.0}
    deltas = {(d1, "all", "active_retail"): 4.0, (d2, "all", "active_retail"): -1.0,
              (d2, "all", "lapsed_retail"): 1.0}  # fmt: skip
    lv = levels(now, deltas, [d1, d2, d3])
    assert lv[(d1, "all", "active_retail")] == 4.0
    assert lv[(d2, "all", "active_retail")] == 3.0
    got = {k.name: v["all"] for k, v in series("all", ["all"], [d2, d3], deltas, lv)}
    assert got["churn_rate_retail"] == [pytest.approx(0.25), 0.0]  # 1 of the 4 at the start
    assert got["retention_rate_retail"] == [pytest.approx(0.75), 1.0]


def test_state_round_trips() -> None:
    assert CustomerState.unpack(GOLD.pack()) == GOLD


def test_an_expiry_counts_as_a_cancellation_with_reason_expired() -> None:
    expiry = parse_event(
        EXAMPLES[EventType.SUBSCRIPTION_EXPIRED], now=datetime(2100, 1, 1, tzinfo=UTC)
    )
    profile = CustomerProfile()
    assert apply(profile, expiry)
    fact = capture(expiry, profile, 2)
    # the example was sent on 2026-03-01 for a plan that ran out the evening before
    assert (fact.kind, fact.reason, fact.day) == (
        "subscription_cancelled",
        "expired",
        date(2026, 3, 1),
    )
    assert sorted(event_flows(fact, None)) == [
        (date(2026, 3, 1), "cancellations", 1.0),
        (date(2026, 3, 1), "events", 1.0),
        (date(2026, 3, 1), "exit:expired", 1.0),
    ]
