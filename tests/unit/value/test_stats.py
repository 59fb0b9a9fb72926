"""RetailStats: exact, order-free, and equal to lifetimes' summary of CDNOW transactions."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.value import RetailStats, RetailSummary, observe, update

from .cdnow import cdnow_dir, load_summary, quiet_lifetimes, read_transactions

DAY0 = date(2024, 1, 1)


def build(purchases: list[tuple[date, Decimal | int]]) -> RetailStats:
    stats = None
    for day, amount in purchases:
        stats = update(stats, day, amount)
    assert stats is not None
    return stats


def reference(purchases: list[tuple[date, Decimal]], now: date) -> RetailSummary:
    """The definitions, computed from the whole history at once."""
    per_day: dict[date, Decimal] = defaultdict(Decimal)
    for day, amount in purchases:
        per_day[day] += amount
    first, last = min(per_day), max(per_day)
    repeat = [total for day, total in per_day.items() if day != first]
    return RetailSummary(
        frequency=len(repeat),
        recency=float((last - first).days),
        T=float((max(now, last) - first).days),
        monetary=float(sum(repeat, Decimal(0)) / len(repeat)) if repeat else 0.0,
    )


purchase = st.tuples(
    st.integers(min_value=0, max_value=800).map(lambda d: DAY0 + timedelta(days=d)),
    st.integers(min_value=0, max_value=10**8).map(lambda cents: Decimal(cents).scaleb(-2)),
)


@given(st.lists(purchase, min_size=1, max_size=40), st.randoms(use_true_random=False))
def test_any_arrival_order_gives_the_same_stats(purchases, rnd) -> None:
    shuffled = list(purchases)
    rnd.shuffle(shuffled)
    assert build(shuffled) == build(purchases)


@given(st.lists(purchase, min_size=1, max_size=40), st.integers(min_value=0, max_value=900))
def test_observe_matches_the_definitions(purchases, now_offset) -> None:
    now = DAY0 + timedelta(days=now_offset)
    stats = build(purchases)
    assert observe(stats, now) == reference(purchases, now)
    assert stats.purchases == len(purchases)
    assert stats.purchase_days == len({day for day, _ in purchases})


def test_same_day_purchases_are_one_period_and_their_amounts_add_up() -> None:
    stats = build(
        [(DAY0, Decimal(10)), (DAY0 + timedelta(3), Decimal(5)), (DAY0 + timedelta(3), 7)]
    )
    assert (stats.frequency, stats.purchases, stats.repeat_spend) == (1, 3, Decimal(12))
    assert observe(stats, DAY0 + timedelta(10)) == RetailSummary(1, 3.0, 10.0, 12.0)


def test_a_late_event_before_the_first_purchase_moves_the_first_day() -> None:
    stats = build([(DAY0 + timedelta(5), Decimal(30)), (DAY0 + timedelta(5), Decimal(2))])
    assert stats.frequency == 0
    late = update(stats, DAY0, Decimal(1))
    assert late.first_purchase == DAY0
    assert late.last_purchase == DAY0 + timedelta(5)
    assert (late.first_day_spend, late.repeat_spend, late.frequency) == (Decimal(1), Decimal(32), 1)


def test_aware_datetimes_are_taken_in_utc() -> None:
    evening_in_new_york = datetime(2024, 1, 1, 20, tzinfo=timezone(timedelta(hours=-5)))
    stats = update(None, evening_in_new_york, 1)
    assert stats.first_purchase == date(2024, 1, 2)
    assert update(stats, datetime(2024, 1, 2, 0, 30, tzinfo=UTC), 1).frequency == 0


def test_observe_in_weeks_and_before_the_last_purchase() -> None:
    stats = build([(DAY0, Decimal(1)), (DAY0 + timedelta(14), Decimal(3))])
    assert observe(stats, DAY0 + timedelta(28), unit_days=7) == RetailSummary(1, 2.0, 4.0, 3.0)
    # cumulative stats cannot drop later purchases: T is at least the recency
    assert observe(stats, DAY0 + timedelta(7)) == RetailSummary(1, 14.0, 14.0, 3.0)


@pytest.mark.parametrize(
    ("amount", "error"),
    [(Decimal(-1), ValueError), (Decimal("NaN"), ValueError), (1.5, TypeError), (True, TypeError)],
)
def test_bad_amounts_are_refused(amount, error) -> None:
    with pytest.raises(error):
        update(None, DAY0, amount)


def test_inconsistent_stats_and_units_are_refused() -> None:
    with pytest.raises(ValueError, match="bit 0"):
        RetailStats(DAY0.toordinal(), 2, Decimal(0), Decimal(0), 1)
    with pytest.raises(ValueError, match="unit_days"):
        observe(update(None, DAY0, 1), DAY0, unit_days=0)


@pytest.fixture(scope="module")
def master() -> list[tuple[str, date, Decimal]]:
    return read_transactions("CDNOW_master.txt")


@pytest.fixture(scope="module")
def lifetimes_master_summary() -> pd.DataFrame:
    frame = pd.read_csv(
        cdnow_dir() / "CDNOW_master.txt", sep=r"\s+", dtype={"customer_id": str, "date": str}
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    with quiet_lifetimes():
        from lifetimes.utils import summary_data_from_transaction_data

        return summary_data_from_transaction_data(
            frame, "customer_id", "date", monetary_value_col="dollar_value"
        )


def per_customer(rows: list[tuple[str, date, Decimal]]) -> dict[str, RetailStats]:
    stats: dict[str, RetailStats] = {}
    for customer, day, amount in rows:
        stats[customer] = update(stats.get(customer), day, amount)
    return stats


def test_cdnow_master_reproduces_lifetimes_summary_for_every_customer(
    master, lifetimes_master_summary
) -> None:
    stats = per_customer(master)
    now = max(day for _, day, _ in master)
    ours = pd.DataFrame(
        [observe(s, now)._asdict() for s in stats.values()], index=list(stats)
    ).sort_index()
    theirs = lifetimes_master_summary.sort_index()
    assert len(ours) == len(theirs) == 23570
    assert list(ours.index) == list(theirs.index)
    assert (ours["frequency"].to_numpy() == theirs["frequency"].to_numpy()).all()
    assert (ours["recency"].to_numpy() == theirs["recency"].to_numpy()).all()
    assert (ours["T"].to_numpy() == theirs["T"].to_numpy()).all()
    pd.testing.assert_series_equal(
        ours["monetary"], theirs["monetary_value"], check_names=False, rtol=1e-12, atol=0
    )


def test_cdnow_master_shuffled_gives_identical_stats(master) -> None:
    shuffled = list(master)
    random.Random(5).shuffle(shuffled)
    assert per_customer(shuffled) == per_customer(master)


def test_cdnow_sample_reproduces_the_shipped_summary_in_weeks() -> None:
    """The 2,357-customer summary lifetimes ships: calibration to 1997-09-30, time in weeks."""
    end = date(1997, 9, 30)
    rows = [row for row in read_transactions("CDNOW_sample.txt") if row[1] <= end]
    stats = per_customer(rows)
    summary = load_summary()
    assert len(stats) == len(summary.customer_id)
    for i, customer in enumerate(summary.customer_id):
        seen = observe(stats[f"{customer:04d}"], end, unit_days=7)
        assert seen.frequency == summary.frequency[i]
        assert seen.recency == pytest.approx(summary.recency[i], abs=0.005 + 1e-9)
        assert pytest.approx(summary.T[i], abs=0.005 + 1e-9) == seen.T
        assert seen.monetary == pytest.approx(summary.monetary[i], abs=0.005 + 1e-9)
