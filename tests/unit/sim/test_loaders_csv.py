"""The CSV loader: column mapping, value parsing, one precise error per kind of bad row."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from churnwatch_sim.loaders import (
    BadRowError,
    CsvMapping,
    LoadReport,
    MappingError,
    iter_csv,
    rfm_summary,
)

from .test_loaders_contract import contract_violations

NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
HEADER = "customer,day,total,cur,order,qty"
MAPPING = CsvMapping(
    customer_id="customer",
    occurred_at="day",
    amount="total",
    currency="cur",
    default_currency="EUR",
    order_id="order",
    items="qty",
    source="shop",
)
GOOD = "c1,2025-12-01,10.00,EUR,o1,1"


def write(tmp_path: Path, *lines: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def load(
    path: Path, mapping: CsvMapping = MAPPING, **kwargs: Any
) -> tuple[list[dict[str, Any]], LoadReport]:
    report = LoadReport()
    events = list(iter_csv(path, mapping, report=report, now=NOW, **kwargs))
    return events, report


@pytest.mark.parametrize(
    ("bad", "column", "code"),
    [
        ("c2,2025-12-01,10.00,EUR,o2", None, "wrong_field_count"),
        ("c2,2025-12-01,10.00,EUR,o2,1,extra", None, "wrong_field_count"),
        (",2025-12-01,10.00,EUR,o2,1", "customer", "missing"),
        ("c 2,2025-12-01,10.00,EUR,o2,1", "customer", "invalid_customer_id"),
        ("c2,,10.00,EUR,o2,1", "day", "missing"),
        ("c2,2025-13-01,10.00,EUR,o2,1", "day", "invalid_date"),
        ("c2,01/12/2025,10.00,EUR,o2,1", "day", "invalid_date"),
        ("c2,2026-01-16,10.00,EUR,o2,1", "day", "in_future"),
        ("c2,2025-12-01,,EUR,o2,1", "total", "missing"),
        ("c2,2025-12-01,ten,EUR,o2,1", "total", "invalid_amount"),
        ("c2,2025-12-01,NaN,EUR,o2,1", "total", "invalid_amount"),
        ("c2,2025-12-01,-3.50,EUR,o2,1", "total", "negative_amount"),
        ("c2,2025-12-01,1000000000000,EUR,o2,1", "total", "amount_too_large"),
        ("c2,2025-12-01,1.23456,EUR,o2,1", "total", "too_many_decimals"),
        ("c2,2025-12-01,10.00,EURO,o2,1", "cur", "invalid_currency"),
        (f"c2,2025-12-01,10.00,EUR,{'o' * 129},1", "order", "invalid_order_id"),
        ("c2,2025-12-01,10.00,EUR,o2,0", "qty", "invalid_items"),
        ("c2,2025-12-01,10.00,EUR,o2,1.5", "qty", "invalid_items"),
    ],
)
def test_each_bad_row_is_located_counted_and_skipped(
    tmp_path: Path, bad: str, column: str | None, code: str
) -> None:
    path = write(tmp_path, HEADER, GOOD, bad, GOOD.replace("c1", "c3"))
    events, report = load(path)
    assert [e["customer_id"] for e in events] == ["c1", "c3"]
    assert (report.read, report.emitted, dict(report.skipped)) == (3, 2, {code: 1})
    (error,) = report.errors
    assert (error.line, error.row, error.column, error.code) == (3, 2, column, code)
    assert str(error).startswith(f"line 3 (row 2), column {column!r}" if column else "line 3")
    with pytest.raises(BadRowError) as caught:
        load(path, strict=True)
    assert caught.value.error == error


def test_summary_counts_by_reason_and_lines_follow_multiline_cells(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,
        GOOD,
        'c2,2025-12-02,5,EUR,"multi\nline order",1',
        "c3,2025-12-03,-1,EUR,o3,1",
        "",
        "c4,2025-12-04,x,EUR,o4,1",
        "c5,not a date,1,EUR,o5,1",
    )
    events, report = load(path)
    assert [e["attributes"]["order_id"] for e in events] == ["o1", "multi\nline order"]
    assert report.as_dict() == {
        "read": 5,
        "emitted": 2,
        "skipped": 3,
        "skipped_by_reason": {"invalid_amount": 1, "invalid_date": 1, "negative_amount": 1},
    }
    assert [(e.line, e.row) for e in report.errors] == [(5, 3), (7, 4), (8, 5)]
    assert report.render() == (
        "read 5, emitted 2, skipped 3 (invalid_amount: 1, invalid_date: 1, negative_amount: 1)"
    )


def test_events_follow_the_contract_and_the_mapping(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,
        "c1,2025-12-01,10.00,usd,o1,3",
        "c1,2025-12-01T08:30:00,5.5,,,",
        "c1,2025-12-03T23:30:00-05:00,0,EUR,o3,1",
    )
    events, report = load(path)
    assert report.emitted == 3
    assert all(contract_violations(e, now=NOW) == [] for e in events)
    first, second, third = (e["attributes"] for e in events)
    assert (first["currency"], first["items"], first["amount"]) == ("USD", 3, "10.00")
    assert (second["currency"], second["order_id"], second["items"]) == ("EUR", "shop-2", 1)
    assert (third["amount"], third["order_id"]) == ("0", "o3")
    assert [e["occurred_at"] for e in events] == [
        "2025-12-01T12:00:00Z",
        "2025-12-01T08:30:00Z",
        "2025-12-04T04:30:00Z",
    ]
    assert len({e["event_id"] for e in events}) == 3
    assert all(e["event_id"].startswith(f"shop:r{i}:") for i, e in enumerate(events, 1))
    assert load(path)[0] == events  # deterministic ids and content


def test_formats_delimiter_decimal_comma_and_timezone(tmp_path: Path) -> None:
    path = write(tmp_path, "kunde;datum;betrag", "k1;01.12.2025 10:15;12,50", "k1;02.12.2025;3,5")
    mapping = CsvMapping(
        customer_id="kunde",
        occurred_at="datum",
        amount="betrag",
        default_currency="EUR",
        date_format="%d.%m.%Y %H:%M",
        delimiter=";",
        decimal_comma=True,
        timezone="Europe/Berlin",
        customer_prefix="de-",
    )
    events, report = load(path, mapping)
    assert report.emitted == 1
    assert report.errors[0].code == "invalid_date"  # the second row has no time of day
    (event,) = events
    assert event["customer_id"] == "de-k1"
    assert event["occurred_at"] == "2025-12-01T09:15:00Z"  # 10:15 in Berlin is UTC+1
    assert event["attributes"]["amount"] == "12.50"
    date_only = dataclasses.replace(mapping, date_format="%d.%m.%Y")
    path = write(tmp_path, "kunde;datum;betrag", "k1;02.12.2025;3,5", "k1;03.12.2025;1.000,5")
    events, report = load(path, date_only)
    assert [e["occurred_at"] for e in events] == ["2025-12-02T11:00:00Z"]  # noon in Berlin
    assert [e.code for e in report.errors] == ["invalid_amount"]


def test_summary_from_csv_events(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "customer,day,total",
        "a,2025-01-01,10",
        "a,2025-01-01,5",
        "a,2025-01-11,7.25",
        "b,2025-01-21,1",
    )
    mapping = CsvMapping(
        customer_id="customer", occurred_at="day", amount="total", default_currency="USD"
    )
    events, _ = load(path, mapping)
    summary = rfm_summary(events, date(2025, 1, 31))
    a, b = summary["a"], summary["b"]
    assert (a.frequency, a.recency, a.T, a.monetary_value) == (1, 10, 30, Decimal("7.25"))
    assert (b.frequency, b.recency, b.T, b.monetary_value) == (0, 0, 10, Decimal(0))
    assert set(rfm_summary(events, date(2025, 1, 20))) == {"a"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("customer,day\n", "no column 'total' \\(for amount\\)"),
        ("customer,day,total,cur,qty\n", "no column 'order' \\(for order_id\\)"),
        ("customer,day,total,total,cur,order,qty\n", "appears 2 times"),
    ],
)
def test_unusable_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(MappingError, match=message):
        load(path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"currency": None, "default_currency": None}, "currency"),
        ({"default_currency": "euro"}, "ISO 4217"),
        ({"delimiter": ";;"}, "one character"),
        ({"source": "my shop"}, "source"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
    ],
)
def test_bad_mapping(changes: dict[str, object], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        dataclasses.replace(MAPPING, **changes)  # type: ignore[arg-type]


def test_byte_order_mark_and_crlf_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffcustomer,day,total\r\nc1,2025-12-01,1.5\r\n".encode())
    mapping = CsvMapping(
        customer_id="customer", occurred_at="day", amount="total", default_currency="GBP"
    )
    events, report = load(path, mapping)
    assert (report.read, report.emitted) == (1, 1)
    assert events[0]["attributes"]["currency"] == "GBP"
