"""The BG/NBD sufficient statistics (frequency, recency, T, monetary value) from purchase events.

Computed the way ``lifetimes.utils.summary_data_from_transaction_data(..., freq="D")`` computes
them, so replayed events can be checked against the package on the same data:

- time is cut into UTC calendar days; purchases after ``observation_end`` are ignored;
- a customer's purchases on one day count as **one** transaction whose value is their sum;
- ``frequency`` = days with a purchase - 1 (repeat days), ``recency`` = last day - first day,
  ``T`` = ``observation_end`` - first day (in days);
- ``monetary_value`` = mean value of the repeat days (the first day excluded), 0 without any.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["RfmSummary", "rfm_summary"]


@dataclass(frozen=True, slots=True)
class RfmSummary:
    """One customer's row of the ``lifetimes`` summary table (units: days, currency units)."""

    frequency: int
    recency: int
    T: int
    monetary_value: Decimal


def rfm_summary(
    events: Iterable[Mapping[str, Any]], observation_end: date
) -> dict[str, RfmSummary]:
    """Summarise the ``purchase`` events per customer (other event types are ignored).

    >>> def buy(day: str, amount: str) -> dict[str, Any]:
    ...     return {"event_type": "purchase", "customer_id": "c1",
    ...             "occurred_at": f"{day}T12:00:00Z", "attributes": {"amount": amount}}
    >>> summary = rfm_summary(
    ...     [buy("1997-01-01", "10"), buy("1997-01-05", "4"), buy("1997-01-05", "6"),
    ...      buy("1997-01-11", "20"), buy("1997-03-01", "99")], date(1997, 1, 31))
    >>> summary["c1"]
    RfmSummary(frequency=2, recency=10, T=30, monetary_value=Decimal('15'))
    """
    days: dict[str, dict[date, Decimal]] = {}
    for event in events:
        if event["event_type"] != "purchase":
            continue
        day = datetime.fromisoformat(event["occurred_at"]).astimezone(UTC).date()
        if day > observation_end:
            continue
        amount = Decimal(str(event["attributes"]["amount"]))
        per_day = days.setdefault(event["customer_id"], {})
        per_day[day] = per_day.get(day, Decimal(0)) + amount
    summary: dict[str, RfmSummary] = {}
    for customer, per_day in days.items():
        first, *repeats = sorted(per_day)
        last = repeats[-1] if repeats else first
        monetary = (
            sum((per_day[d] for d in repeats), Decimal(0)) / len(repeats) if repeats else Decimal(0)
        )
        summary[customer] = RfmSummary(
            frequency=len(repeats),
            recency=(last - first).days,
            T=(observation_end - first).days,
            monetary_value=monetary,
        )
    return summary
