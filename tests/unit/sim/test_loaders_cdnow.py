"""The CDNOW loader: contract, determinism, and the lifetimes summary table reproduced."""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pandas as pd
import pytest

from churnwatch_sim.loaders import (
    BadRowError,
    cdnow_path,
    iter_cdnow,
    iter_cdnow_lines,
    rfm_summary,
)

from .test_loaders_contract import contract_violations


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return list(iter_cdnow())


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """The file as lifetimes users read it, independently of the loader."""
    frame = pd.read_csv(
        cdnow_path(), sep=r"\s+", dtype={"customer_id": str, "date": str, "dollar_value": str}
    )
    frame["amount"] = frame["dollar_value"].astype(float)
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def test_one_event_per_row_all_valid(events: list[dict[str, Any]], raw: pd.DataFrame) -> None:
    assert len(events) == len(raw)
    assert len({e["event_id"] for e in events}) == len(events)
    assert len({e["attributes"]["order_id"] for e in events}) == len(events)
    problems = [(e["event_id"], p) for e in events for p in contract_violations(e)]
    assert problems == []


def test_amounts_and_items_verbatim(events: list[dict[str, Any]], raw: pd.DataFrame) -> None:
    assert [e["attributes"]["amount"] for e in events] == raw["dollar_value"].tolist()
    assert [e["attributes"]["items"] for e in events] == raw["number_of_cds"].tolist()
    zero = [e for e in events if Decimal(e["attributes"]["amount"]) == 0]
    assert len(zero) == int((raw["amount"] == 0).sum()) > 0


def test_same_day_purchases_are_ordered_at_noon_plus_minutes(
    events: list[dict[str, Any]],
) -> None:
    times: dict[str, list[datetime]] = defaultdict(list)
    for event in events:
        times[event["customer_id"]].append(datetime.fromisoformat(event["occurred_at"]))
    assert all(a < b for moments in times.values() for a, b in itertools.pairwise(moments))
    per_day: dict[tuple[str, date], list[datetime]] = defaultdict(list)
    for customer, moments in times.items():
        for moment in moments:
            per_day[customer, moment.date()].append(moment)
    busy = [m for m in per_day.values() if len(m) > 1]
    assert busy, "CDNOW has several purchases per customer-day"
    for moments in per_day.values():
        assert [(m.hour, m.minute) for m in moments] == [(12, k) for k in range(len(moments))]


def test_deterministic(events: list[dict[str, Any]]) -> None:
    def digest(stream: Any) -> str:
        return hashlib.sha256(b"".join(orjson.dumps(e) for e in stream)).hexdigest()

    assert digest(iter_cdnow()) == digest(events)


@pytest.mark.parametrize("end", [date(1997, 9, 30), date(1998, 6, 30)])
def test_summary_reproduces_lifetimes(
    events: list[dict[str, Any]], raw: pd.DataFrame, end: date
) -> None:
    from lifetimes.utils import summary_data_from_transaction_data

    expected = summary_data_from_transaction_data(
        raw,
        "customer_id",
        "date",
        monetary_value_col="amount",
        observation_period_end=end.isoformat(),
        freq="D",
    )
    ours = rfm_summary(events, end)
    assert set(ours) == set(expected.index)
    mismatches = []
    for customer, row in expected.iterrows():
        mine = ours[str(customer)]
        same = (
            mine.frequency == row["frequency"]
            and mine.recency == row["recency"]
            and row["T"] == mine.T
            and math.isclose(float(mine.monetary_value), row["monetary_value"], rel_tol=1e-9)
        )
        if not same:
            mismatches.append((customer, mine, row.to_dict()))
    assert mismatches == []
    assert (expected["frequency"] > 0).sum() > 1000  # the check covers repeat buyers


@pytest.mark.parametrize(
    ("line", "code", "column"),
    [
        (" 00001 19970101  1", "wrong_field_count", None),
        (" 00001 19971301  1  11.77", "invalid_date", "date"),
        (" 00001 1997010  1  11.77", "invalid_date", "date"),
        (" 00001 19970101  0  11.77", "invalid_items", "number_of_cds"),
        (" 00001 19970101  1  abc", "invalid_amount", "dollar_value"),
        (" 00001 19970101  1  -1.00", "negative_amount", "dollar_value"),
        (" 00001 19970101  1  1.00001", "too_many_decimals", "dollar_value"),
        (" 0000/1 19970101  1  1.00", "invalid_customer_id", "customer_id"),
    ],
)
def test_malformed_line_is_located(line: str, code: str, column: str | None) -> None:
    lines = [" customer_id  date number_of_cds  dollar_value", " 00009 19970101  1  5.00", line]
    with pytest.raises(BadRowError) as caught:
        list(iter_cdnow_lines(lines))
    error = caught.value.error
    assert (error.line, error.row, error.code, error.column) == (3, 2, code, column)


def test_prefix_and_source() -> None:
    (event,) = iter_cdnow_lines([" 00007 19980630  2  30.5"], source="cd", customer_prefix="cd-")
    assert event["customer_id"] == "cd-00007"
    assert event["source"] == "cd"
    assert event["event_id"] == "cd:00007:19980630:1"
    assert contract_violations(event) == []
