"""Per-customer sufficient statistics of the retail (non-contractual) value models.

The BG/NBD and Gamma-Gamma models need four numbers per customer, with `lifetimes`' conventions
(``summary_data_from_transaction_data`` with ``freq="D"``):

- **frequency**: the number of *days* with a purchase, minus the first one (repeat purchase days);
- **recency**: the time from the first to the last purchase day;
- **T**: the customer's age, from the first purchase day to the observation day;
- **monetary**: the mean value of a repeat purchase day (same-day purchases summed), the first
  day excluded; ``0`` when there is no repeat day.

`RetailStats` keeps them incrementally and exactly. Purchase days are a bit mask anchored at the
first day, so a late event (earlier than events already seen, even earlier than the first
purchase) lands on the right day, and any arrival order gives the *same* state. Amounts are
`Decimal`, so sums do not depend on the order of addition either. The mask costs one bit per
day of the customer's span (46 bytes a year).

`update` is not idempotent: the caller drops duplicates (same ``event_id``) before calling it.
Refunds are not applied here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple

__all__ = ["RetailStats", "RetailSummary", "observe", "update"]


class RetailSummary(NamedTuple):
    """The model inputs of one customer at an observation time, in units of ``unit_days``."""

    frequency: int
    recency: float
    T: float
    monetary: float


@dataclass(frozen=True, slots=True)
class RetailStats:
    """A customer's purchase history reduced to what the value models need.

    Parameters
    ----------
    first_day
        Proleptic Gregorian ordinal (`date.toordinal`) of the first purchase day.
    day_mask
        Bit ``k`` is set when there was a purchase on ``first_day + k``; bit 0 is always set.
    first_day_spend
        Total amount spent on the first purchase day (excluded from ``monetary``, kept because a
        late event on an earlier day turns this day into a repeat day).
    repeat_spend
        Total amount spent on the other purchase days.
    purchases
        Number of purchases (events) recorded, several per day possible.

    Examples
    --------
    >>> s = update(None, date(2024, 1, 1), Decimal("10"))
    >>> s = update(s, date(2024, 1, 5), Decimal("30"))
    >>> (s.first_purchase, s.last_purchase, s.purchase_days, s.frequency, s.repeat_spend)
    (datetime.date(2024, 1, 1), datetime.date(2024, 1, 5), 2, 1, Decimal('30'))
    """

    first_day: int
    day_mask: int
    first_day_spend: Decimal
    repeat_spend: Decimal
    purchases: int

    def __post_init__(self) -> None:
        if not self.day_mask & 1:
            raise ValueError("day_mask must have bit 0 (the first purchase day) set")
        if self.purchases < self.day_mask.bit_count():
            raise ValueError("fewer purchases than purchase days")

    @property
    def first_purchase(self) -> date:
        """The first purchase day."""
        return date.fromordinal(self.first_day)

    @property
    def last_day(self) -> int:
        """Ordinal of the last purchase day."""
        return self.first_day + self.day_mask.bit_length() - 1

    @property
    def last_purchase(self) -> date:
        """The last purchase day."""
        return date.fromordinal(self.last_day)

    @property
    def purchase_days(self) -> int:
        """Number of distinct days with a purchase."""
        return self.day_mask.bit_count()

    @property
    def frequency(self) -> int:
        """Repeat purchase days: the BG/NBD ``x`` and the count behind ``monetary``."""
        return self.purchase_days - 1


def _day(at: datetime | date) -> int:
    """The ordinal of the day of ``at``: aware datetimes in UTC, naive ones as given."""
    if isinstance(at, datetime):
        if at.tzinfo is not None:
            at = at.astimezone(UTC)
        return at.date().toordinal()
    return at.toordinal()


def update(
    stats: RetailStats | None, occurred_at: datetime | date, amount: Decimal | int
) -> RetailStats:
    """Record one purchase; the order in which purchases arrive does not change the result.

    Parameters
    ----------
    stats
        The customer's statistics, or ``None`` before their first recorded purchase.
    occurred_at
        Event time of the purchase (aware datetimes are taken in UTC).
    amount
        Its value, ``>= 0`` (a `Decimal`, so sums are exact and order-free).

    Examples
    --------
    A late event earlier than the first purchase makes the old first day a repeat day:

    >>> late = update(update(None, date(2024, 1, 5), 30), date(2024, 1, 1), 10)
    >>> in_order = update(update(None, date(2024, 1, 1), 10), date(2024, 1, 5), 30)
    >>> late == in_order
    True
    >>> observe(late, date(2024, 1, 11))
    RetailSummary(frequency=1, recency=4.0, T=10.0, monetary=30.0)
    """
    if not isinstance(amount, Decimal | int) or isinstance(amount, bool):
        raise TypeError(f"amount must be a Decimal or an int, got {type(amount).__name__}")
    value = Decimal(amount)
    if not value.is_finite() or value < 0:
        raise ValueError(f"amount must be a finite value >= 0, got {amount}")
    day = _day(occurred_at)
    if stats is None:
        return RetailStats(day, 1, value, Decimal(0), 1)
    purchases = stats.purchases + 1
    if day < stats.first_day:
        shift = stats.first_day - day
        return RetailStats(
            day,
            (stats.day_mask << shift) | 1,
            value,
            stats.repeat_spend + stats.first_day_spend,
            purchases,
        )
    if day == stats.first_day:
        return RetailStats(
            day, stats.day_mask, stats.first_day_spend + value, stats.repeat_spend, purchases
        )
    return RetailStats(
        stats.first_day,
        stats.day_mask | (1 << (day - stats.first_day)),
        stats.first_day_spend,
        stats.repeat_spend + value,
        purchases,
    )


def observe(stats: RetailStats, now: datetime | date, unit_days: float = 1) -> RetailSummary:
    """The model inputs ``(frequency, recency, T, monetary)`` seen on the day of ``now``.

    Matches ``lifetimes.utils.summary_data_from_transaction_data(..., freq="D",
    freq_multiplier=unit_days, observation_period_end=now)`` when every purchase is on or
    before ``now``. The statistics are cumulative and cannot drop later purchases, so a ``now``
    before the last purchase day is taken as that day (``T >= recency`` always holds).

    Parameters
    ----------
    stats
        The customer's statistics.
    now
        Observation time (aware datetimes in UTC).
    unit_days
        Length of the model's time unit in days (7 for weeks); ``frequency`` stays in days.

    Examples
    --------
    >>> s = update(update(None, date(2024, 1, 1), 10), date(2024, 1, 15), Decimal("20.5"))
    >>> observe(s, datetime(2024, 1, 29, 18, tzinfo=UTC), unit_days=7)
    RetailSummary(frequency=1, recency=2.0, T=4.0, monetary=20.5)
    """
    if unit_days <= 0:
        raise ValueError(f"unit_days must be > 0, got {unit_days}")
    frequency = stats.frequency
    end = max(_day(now), stats.last_day)
    monetary = float(stats.repeat_spend / frequency) if frequency else 0.0
    return RetailSummary(
        frequency=frequency,
        recency=(stats.last_day - stats.first_day) / unit_days,
        T=(end - stats.first_day) / unit_days,
        monetary=monetary,
    )
