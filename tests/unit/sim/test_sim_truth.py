"""The truth files agree with the events: churn silences a customer, money adds up."""

from __future__ import annotations

import bisect
from collections import defaultdict
from decimal import Decimal

import orjson
import pandas as pd

from tests.unit.sim.conftest import Run


def _lifecycle(run: Run) -> dict[str, list[tuple[str, str]]]:
    churns = pd.read_csv(run.truth / "churns.csv")
    log: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in churns.itertuples():
        log[str(row.customer_id)].append((str(row.occurred_at), str(row.event)))
    for entries in log.values():
        entries.sort()
    return log


def _win_back_ids(run: Run) -> set[str]:
    actions = pd.read_csv(run.truth / "actions.csv")
    return set(actions.loc[actions.action_type == "win_back", "action_id"].astype(str))


def test_no_event_after_churn_except_win_back(mixed_run: Run) -> None:
    log = _lifecycle(mixed_run)
    win_backs = _win_back_ids(mixed_run)
    checked = after_churn = 0
    with mixed_run.events.open("rb") as fh:
        for line in fh:
            event = orjson.loads(line)
            entries = log.get(event["customer_id"])
            if not entries:
                continue
            checked += 1
            times = [t for t, _ in entries]
            k = bisect.bisect_left(times, event["occurred_at"])
            if k == 0 or entries[k - 1][1] == "reactivation":
                continue
            # after a churn or an erasure: only the answers to a win-back may follow
            after_churn += 1
            assert event["event_type"] == "offer_response", event
            assert event["attributes"]["action_id"] in win_backs, event
    assert checked > 10_000
    assert after_churn > 0, "the run should contain win-back answers from churned customers"


def test_subscription_churn_is_a_cancellation_or_expiry_and_retail_churn_is_silent(
    mixed_run: Run,
) -> None:
    churns = pd.read_csv(mixed_run.truth / "churns.csv")
    churned = churns[churns.event == "churn"]
    ended: dict[tuple[str, str], list[str]] = defaultdict(list)
    with mixed_run.events.open("rb") as fh:
        for line in fh:
            if b'"subscription_cancelled"' in line or b'"subscription_expired"' in line:
                event = orjson.loads(line)
                key = (event["customer_id"], event["occurred_at"])
                ended[key].append(event["event_type"])
                if event["event_type"] == "subscription_expired":  # ends when billing gives up
                    assert "effective_at" not in event["attributes"], event
    subscription = churned[churned.kind == "subscription"]
    assert set(ended) == {
        (str(r.customer_id), str(r.occurred_at)) for r in subscription.itertuples()
    }
    assert all(len(kinds) == 1 for kinds in ended.values())  # one end event per churn
    # non-renewal only for payment churn (a subscriber in dunning), and it does happen
    cause = {(str(r.customer_id), str(r.occurred_at)): r.cause for r in subscription.itertuples()}
    expiries = [key for key, kinds in ended.items() if kinds == ["subscription_expired"]]
    assert expiries
    assert {cause[key] for key in expiries} == {"payment"}
    assert (churned.kind == "retail").sum() > 50  # and those have no cancellation at all


def test_customer_table_matches_the_churn_log(mixed_run: Run) -> None:
    customers = pd.read_csv(mixed_run.truth / "customers.csv", keep_default_na=False)
    churns = pd.read_csv(mixed_run.truth / "churns.csv")
    first = churns[churns.event == "churn"].groupby("customer_id").first()
    assert len(customers) == mixed_run.config.population.customers
    churned = customers[customers.first_churn_day >= 0].set_index("customer_id")
    assert set(churned.index) == set(first.index)
    assert (churned.loc[first.index, "first_churn_day"] == first["day"]).all()
    assert (churned.loc[first.index, "first_churn_cause"] == first["cause"]).all()
    assert (churned.loc[first.index, "first_churn_at"] == first["occurred_at"]).all()
    reactivated = churns[churns.event == "reactivation"].customer_id.value_counts()
    by_id = customers.set_index("customer_id")
    assert (by_id.loc[reactivated.index, "reactivations"] == reactivated).all()
    status = by_id.status.value_counts()
    assert status.get("churned", 0) + status.get("alive", 0) + status.get("erased", 0) > 0
    assert (by_id.loc[by_id.status != "alive", "clv_remaining"] == 0).all()
    alive_clv = by_id.loc[by_id.status == "alive", "clv_remaining"]
    assert (alive_clv >= 0).all()
    assert (alive_clv > 0).mean() > 0.95  # rare buyers round to 0.00


def test_revenue_in_the_truth_equals_the_money_in_the_events(mixed_run: Run) -> None:
    money: dict[str, Decimal] = defaultdict(Decimal)
    with mixed_run.events.open("rb") as fh:
        for line in fh:
            event = orjson.loads(line)
            attrs, kind = event["attributes"], event["event_type"]
            if kind == "purchase":
                money[event["customer_id"]] += Decimal(attrs["amount"])
            elif kind == "subscription_renewed":
                money[event["customer_id"]] += Decimal(attrs["price"])
            elif kind == "refund":
                money[event["customer_id"]] -= Decimal(attrs["amount"])
    customers = pd.read_csv(mixed_run.truth / "customers.csv", dtype={"revenue": str})
    truth = {r.customer_id: Decimal(r.revenue) for r in customers.itertuples()}
    assert len(money) > 500
    assert {k: v for k, v in truth.items() if v} == {k: v for k, v in money.items() if v}


def test_daily_truth_counts_every_event_and_churn(mixed_run: Run) -> None:
    daily = pd.read_csv(mixed_run.truth / "daily.csv")
    churns = pd.read_csv(mixed_run.truth / "churns.csv")
    with mixed_run.events.open("rb") as fh:
        lines = sum(1 for _ in fh)
    assert len(daily) == mixed_run.config.days
    assert daily.events.sum() == lines
    assert daily.churned.sum() == (churns.event == "churn").sum()
    causes = [c for c in daily.columns if c.startswith("churned_")]
    assert (daily[causes].sum(axis=1) == daily.churned).all()


def test_hazard_snapshots_cover_the_living_with_probabilities(mixed_run: Run) -> None:
    hazard = pd.read_csv(mixed_run.truth / "hazard.csv")
    daily = pd.read_csv(mixed_run.truth / "daily.csv")
    every = mixed_run.config.hazard_every
    days = sorted(hazard.day.unique())
    assert days == [*range(0, mixed_run.config.days, every), mixed_run.config.days - 1]
    for day in days[1:]:
        alive_next = daily.loc[daily.day == day + 1, "alive"] if day + 1 < len(daily) else None
        if alive_next is not None and len(alive_next):
            assert (hazard.day == day).sum() == int(alive_next.iloc[0])
    assert hazard.daily_hazard.between(0, 1).all()
    assert hazard.p_churn_90d.between(0, 1).all()
    assert (hazard.p_churn_90d >= hazard.daily_hazard).all()
    assert (hazard.clv >= 0).all()
