"""Hypothesis strategies: random customer histories over every event type but erasure."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from churnwatch.events import (
    BillingPeriod,
    ComplaintStatus,
    EmailAction,
    Event,
    EventType,
    ExitReason,
    OfferResponse,
    Severity,
    SubscriptionChange,
    TicketStatus,
)

from .support import at, event

__all__ = ["SPAN_DAYS", "histories", "lateness_order"]

SPAN_DAYS = 400
"""Histories cover this many days after T0."""

money = st.integers(min_value=0, max_value=500_000).map(lambda c: Decimal(c).scaleb(-2))
positive = st.integers(min_value=1, max_value=500_000).map(lambda c: Decimal(c).scaleb(-2))
period = st.sampled_from(list(BillingPeriod))

ATTRIBUTES: dict[EventType, st.SearchStrategy[dict[str, Any]]] = {
    EventType.CUSTOMER_PROFILE: st.fixed_dictionaries(
        {},
        optional={
            "signed_up_at": st.integers(-900, 30).map(at),
            "email": st.just("x@example.com"),
            "consent": st.fixed_dictionaries(
                {"email": st.none() | st.booleans(), "sms": st.none() | st.booleans()}
            ),
        },
    ),
    EventType.SESSION: st.just({}),
    EventType.FEATURE_USE: st.fixed_dictionaries({"count": st.integers(1, 5)}),
    EventType.EMAIL_ENGAGEMENT: st.fixed_dictionaries(
        {"action": st.sampled_from(list(EmailAction))}
    ),
    EventType.SUPPORT_TICKET: st.fixed_dictionaries(
        {
            "ticket_id": st.sampled_from([f"T-{i}" for i in range(5)]),
            "status": st.sampled_from(list(TicketStatus)),
        }
    ),
    EventType.COMPLAINT: st.fixed_dictionaries(
        {
            "complaint_id": st.sampled_from([f"K-{i}" for i in range(5)]),
            "status": st.sampled_from(list(ComplaintStatus)),
            "severity": st.sampled_from(list(Severity)),
        }
    ),
    EventType.NPS: st.fixed_dictionaries({"score": st.integers(0, 10)}),
    EventType.PURCHASE: st.fixed_dictionaries({"amount": money}),
    EventType.REFUND: st.fixed_dictionaries({"amount": positive}),
    EventType.SUBSCRIPTION_STARTED: st.fixed_dictionaries(
        {"price": money, "trial": st.booleans(), "billing_period": period}
    ),
    EventType.SUBSCRIPTION_RENEWED: st.fixed_dictionaries(
        {"price": money, "plan": st.sampled_from(["plus", "basic"]), "billing_period": period}
    ),
    EventType.SUBSCRIPTION_CHANGED: st.fixed_dictionaries(
        {
            "change": st.sampled_from(list(SubscriptionChange)),
            "old_price": money,
            "new_price": money,
            "to_plan": st.sampled_from(["plus", "basic", "pro"]),
        }
    ),
    EventType.SUBSCRIPTION_CANCELLED: st.fixed_dictionaries(
        {},
        optional={
            "exit_reason": st.sampled_from(list(ExitReason)),
            "effective_days": st.integers(0, 40),
        },
    ),
    # an expiry is often reported after the period ended: effective up to 5 days before it
    EventType.SUBSCRIPTION_EXPIRED: st.fixed_dictionaries(
        {}, optional={"effective_days": st.integers(-5, 0)}
    ),
    EventType.PAYMENT_FAILED: st.fixed_dictionaries(
        {"amount": positive}, optional={"subscription_id": st.just("S-1")}
    ),
    EventType.OFFER_RESPONSE: st.fixed_dictionaries(
        {"response": st.sampled_from(list(OfferResponse))}
    ),
}

KINDS = [k for k in EventType if k is not EventType.CUSTOMER_ERASED]


@st.composite
def histories(draw: st.DrawFn, *, min_size: int = 1, max_size: int = 60) -> list[Event]:
    """A duplicate-free history in time order, every event at a distinct second."""
    seconds = draw(
        st.lists(
            st.integers(0, SPAN_DAYS * 86_400),
            min_size=min_size,
            max_size=max_size,
            unique=True,
        )
    )
    out = []
    for i, second in enumerate(sorted(seconds)):
        kind = draw(st.sampled_from(KINDS))
        attributes = dict(draw(ATTRIBUTES[kind]))
        days = second / 86_400
        if "effective_days" in attributes:
            attributes["effective_at"] = at(days + attributes.pop("effective_days"))
        out.append(event(kind, days, event_id=f"h{i}", **attributes))
    return out


def lateness_order(events: list[Event], delays: list[float]) -> list[Event]:
    """``events`` in the order they arrive when each is delayed by its ``delays`` (days)."""
    keyed = sorted(
        range(len(events)),
        key=lambda i: (events[i].occurred_at.timestamp() + delays[i % len(delays)] * 86_400, i),
    )
    return [events[i] for i in keyed]
