"""What an applied event adds to the daily KPI flows (purchases, revenue, cancellations, …).

`capture` runs in the scoring worker right after an event is folded into the profile (it needs
the purchase count *at that event*); `event_flows` turns the captured facts into daily deltas
once the batch knows each customer's cut values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from churnwatch.events import (
    Event,
    PurchaseEvent,
    RefundEvent,
    SubscriptionCancelledEvent,
    SubscriptionExpiredEvent,
    SubscriptionStartedEvent,
)
from churnwatch.profile import CustomerProfile

CONVERSION_DAYS = 90
"""The N of the repeat-customer conversion rate (docs: kpis.md)."""


@dataclass(frozen=True, slots=True)
class EventFact:
    """An applied event, reduced to what the KPIs need."""

    customer_id: str
    partition: int
    kind: str  # purchase | refund | subscription_started | subscription_cancelled | other
    # (a subscription_expired is a subscription_cancelled with reason "expired": churn either way)
    day: date
    source: str
    amount: float = 0.0
    purchase_number: int = 0  # 1 for the customer's first purchase, 2 for the second, …
    first_purchase_day: date | None = None
    converted: bool = False  # the second purchase fell within CONVERSION_DAYS of the first
    reason: str = ""


def _day(seconds: int) -> date:
    return datetime.fromtimestamp(seconds, UTC).date()


def capture(ev: Event, profile: CustomerProfile, partition: int) -> EventFact:
    """The fact of ``ev``, with ``profile`` already holding it.

    >>> from churnwatch.events import EXAMPLES, EventType, parse_event
    >>> import orjson
    >>> from churnwatch.profile import apply
    >>> p = CustomerProfile()
    >>> doc = dict(EXAMPLES[EventType.PURCHASE], customer_id="C-1")
    >>> ev = parse_event(orjson.dumps(doc), now=datetime(2100, 1, 1, tzinfo=UTC))
    >>> apply(p, ev)
    True
    >>> f = capture(ev, p, 3)
    >>> f.kind, f.purchase_number, f.first_purchase_day == f.day, f.converted
    ('purchase', 1, True, False)
    """
    day = ev.occurred_at.astimezone(UTC).date()
    base = (ev.customer_id, partition)
    if isinstance(ev, PurchaseEvent):
        n = profile.purchases
        first = _day(profile.first_tx) if profile.first_tx else day
        within = n == 2 and _within(profile.first_tx, ev.occurred_at)
        return EventFact(
            *base, "purchase", day, ev.source, float(ev.attributes.amount), n, first, within
        )
    if isinstance(ev, RefundEvent):
        return EventFact(*base, "refund", day, ev.source, float(ev.attributes.amount))
    if isinstance(ev, SubscriptionStartedEvent):
        return EventFact(*base, "subscription_started", day, ev.source)
    if isinstance(ev, SubscriptionCancelledEvent):
        reason = ev.attributes.exit_reason
        return EventFact(
            *base, "subscription_cancelled", day, ev.source, reason=str(reason or "unknown")
        )
    if isinstance(ev, SubscriptionExpiredEvent):
        return EventFact(*base, "subscription_cancelled", day, ev.source, reason="expired")
    return EventFact(*base, "other", day, ev.source)


def _within(first_tx: int, at: datetime) -> bool:
    """The second purchase at ``at`` is within N days of the first (``first_tx``, seconds)."""
    return first_tx > 0 and at.timestamp() - first_tx <= CONVERSION_DAYS * 86_400


def event_flows(
    fact: EventFact, previous_purchase: date | None
) -> Iterator[tuple[date, str, float]]:
    """(day, metric, amount) flows of one fact; ``previous_purchase`` is the day of the
    customer's purchase before this one (to count each repeat customer once per day).

    >>> d = date(2026, 1, 5)
    >>> f = EventFact("C", 0, "purchase", d, "shop", 40.0, 2, date(2026, 1, 1), True)
    >>> [(day.day, metric, x) for day, metric, x in sorted(event_flows(f, date(2026, 1, 1)))]
    ... # doctest: +NORMALIZE_WHITESPACE
    [(1, 'converted', 1.0), (5, 'events', 1.0), (5, 'purchases', 1.0), (5, 'repeat_active', 1.0),
     (5, 'repeat_purchases', 1.0), (5, 'repeat_revenue', 40.0), (5, 'revenue', 40.0)]
    """
    d = fact.day
    yield d, "events", 1.0
    if fact.kind == "purchase":
        yield d, "purchases", 1.0
        yield d, "revenue", fact.amount
        if fact.purchase_number == 1:
            yield d, "first_purchases", 1.0
        if fact.purchase_number >= 2:
            yield d, "repeat_purchases", 1.0
            yield d, "repeat_revenue", fact.amount
            if previous_purchase != d:
                yield d, "repeat_active", 1.0
        if fact.purchase_number == 2 and fact.converted and fact.first_purchase_day:
            yield fact.first_purchase_day, "converted", 1.0
    elif fact.kind == "refund":
        yield d, "refunds", 1.0
        yield d, "refund_amount", fact.amount
        yield d, "revenue", -fact.amount
    elif fact.kind == "subscription_started":
        yield d, "subscriptions_started", 1.0
    elif fact.kind == "subscription_cancelled":
        yield d, "cancellations", 1.0
        yield d, f"exit:{fact.reason}", 1.0
