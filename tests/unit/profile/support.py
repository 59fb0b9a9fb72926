"""Event builders, a realistic customer-history generator, and an independent batch oracle.

The oracle computes features from a whole history at once, straight from the definitions in
docs/profile.md (exact windows, decayed counts as plain sums), so the incremental profile can
be checked against it on any history and in any arrival order.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from churnwatch.events import EVENT_CLASSES, Event, EventType
from churnwatch.profile import CustomerProfile, apply, features

__all__ = [
    "DAY",
    "T0",
    "Oracle",
    "at",
    "build",
    "event",
    "realistic_history",
]

T0 = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
DAY = 86_400.0

DEFAULTS: dict[EventType, dict[str, Any]] = {
    EventType.CUSTOMER_PROFILE: {},
    EventType.SESSION: {"session_id": "s", "duration_seconds": 60},
    EventType.FEATURE_USE: {"feature": "search"},
    EventType.EMAIL_ENGAGEMENT: {"campaign_id": "c", "action": "delivered"},
    EventType.SUPPORT_TICKET: {"ticket_id": "T-1", "status": "opened"},
    EventType.COMPLAINT: {"complaint_id": "K-1", "status": "opened", "reason": "delivery"},
    EventType.NPS: {"score": 7},
    EventType.PURCHASE: {"order_id": "O-1", "amount": "10.00", "currency": "EUR"},
    EventType.REFUND: {"refund_id": "R-1", "order_id": "O-1", "amount": "5.00", "currency": "EUR"},
    EventType.SUBSCRIPTION_STARTED: {
        "subscription_id": "S-1",
        "plan": "plus",
        "price": "9.99",
        "currency": "EUR",
        "billing_period": "monthly",
    },
    EventType.SUBSCRIPTION_RENEWED: {
        "subscription_id": "S-1",
        "plan": "plus",
        "price": "9.99",
        "currency": "EUR",
        "billing_period": "monthly",
    },
    EventType.SUBSCRIPTION_CHANGED: {
        "subscription_id": "S-1",
        "change": "price_increase",
        "from_plan": "plus",
        "to_plan": "plus",
        "old_price": "10.00",
        "new_price": "12.00",
        "currency": "EUR",
        "billing_period": "monthly",
    },
    EventType.SUBSCRIPTION_CANCELLED: {"subscription_id": "S-1"},
    EventType.SUBSCRIPTION_EXPIRED: {"subscription_id": "S-1"},
    EventType.PAYMENT_FAILED: {"payment_id": "P-1", "amount": "9.99", "currency": "EUR"},
    EventType.OFFER_RESPONSE: {"offer_id": "F-1", "response": "accepted"},
    EventType.CUSTOMER_ERASED: {},
}

_ids = itertools.count()


def at(days: float) -> datetime:
    """``days`` after `T0` (fractions allowed)."""
    return T0 + timedelta(seconds=round(days * DAY))


def event(kind: EventType, days: float, event_id: str | None = None, **attributes: Any) -> Event:
    """An event of ``kind`` at ``at(days)``, with `DEFAULTS` completed by ``attributes``."""
    cls = EVENT_CLASSES[kind]
    data = {
        "event_id": event_id or f"e{next(_ids)}",
        "event_type": kind,
        "customer_id": "C-1",
        "occurred_at": at(days),
        "source": "test",
        "schema_version": 1,
        "attributes": {**DEFAULTS[kind], **attributes},
    }
    return cls.model_validate(data)  # type: ignore[return-value]


def build(events: Iterable[Event]) -> CustomerProfile:
    """A profile that lived through ``events`` in the given order."""
    profile = CustomerProfile()
    for e in events:
        apply(profile, e)
    return profile


def realistic_history(seed: int, days: int = 365, subscriber: bool | None = None) -> list[Event]:
    """One customer's year, roughly like the simulator's: daily sessions and feature use with a
    slowly drifting engagement, weekly e-mails, purchases or monthly renewals, and the odd
    ticket, complaint, NPS answer, failed payment, refund and price increase."""
    rng = random.Random(seed)
    sub = rng.random() < 0.5 if subscriber is None else subscriber
    engagement = rng.uniform(0.2, 3.0)
    out: list[Event] = [
        event(EventType.CUSTOMER_PROFILE, 0.01, signed_up_at=at(-rng.randint(0, 900)))
    ]
    if sub:
        out.append(event(EventType.SUBSCRIPTION_STARTED, 0.02, trial=rng.random() < 0.3))
    for day in range(days):
        engagement = max(0.05, engagement * math.exp(rng.gauss(0, 0.05)))
        for _ in range(_poisson(rng, engagement)):
            out.append(event(EventType.SESSION, day + rng.random(), session_id=f"s{day}"))
        for _ in range(_poisson(rng, engagement * 1.4)):
            out.append(event(EventType.FEATURE_USE, day + rng.random(), count=rng.randint(1, 4)))
        if day % 7 == 3:
            out.append(event(EventType.EMAIL_ENGAGEMENT, day + 0.3, action="delivered"))
            if rng.random() < 0.3:
                out.append(event(EventType.EMAIL_ENGAGEMENT, day + 0.5, action="opened"))
        if sub and day % 30 == 29:
            out.append(event(EventType.SUBSCRIPTION_RENEWED, day + 0.01))
        if not sub and rng.random() < 0.03:
            amount = Decimal(rng.randint(500, 20_000)).scaleb(-2)
            out.append(event(EventType.PURCHASE, day + rng.random(), amount=amount))
        if rng.random() < 0.01:
            ticket = f"T-{day}"
            out.append(event(EventType.SUPPORT_TICKET, day + 0.1, ticket_id=ticket))
            out.append(
                event(EventType.SUPPORT_TICKET, day + 2.1, ticket_id=ticket, status="resolved")
            )
        if rng.random() < 0.005:
            out.append(event(EventType.COMPLAINT, day + 0.2, complaint_id=f"K-{day}"))
        if rng.random() < 0.004:
            out.append(event(EventType.NPS, day + 0.4, score=rng.randint(0, 10)))
        if sub and rng.random() < 0.003:
            out.append(event(EventType.PAYMENT_FAILED, day + 0.6))
    return sorted(out, key=lambda e: e.occurred_at)


def _poisson(rng: random.Random, lam: float) -> int:
    n, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


# ---------------------------------------------------------------------------------------------
# the oracle


@dataclass
class Oracle:
    """Features computed from a whole (duplicate-free) history at once, by definition."""

    events: Sequence[Any]

    def by(self, *kinds: EventType) -> list[Any]:
        return [e for e in self.events if e.event_type in kinds]

    def ts(self, e: Any) -> int:
        moment: datetime = e.occurred_at
        return max(1, math.floor(moment.timestamp()))

    def transactions(self) -> list[tuple[int, int]]:
        out = []
        for e in self.events:
            kind = e.event_type
            if kind is EventType.PURCHASE:
                out.append((self.ts(e), _cents(e.attributes.amount)))
            elif kind is EventType.SUBSCRIPTION_RENEWED:
                out.append((self.ts(e), _cents(e.attributes.price)))
            elif kind is EventType.SUBSCRIPTION_STARTED:
                paid = not e.attributes.trial and e.attributes.price > 0
                out.extend([(self.ts(e), _cents(e.attributes.price))] if paid else [])
        return out

    def tenure_start(self) -> int:
        first = min(self.ts(e) for e in self.events)
        profiles = [e for e in self.by(EventType.CUSTOMER_PROFILE) if e.attributes.signed_up_at]
        if not profiles:
            return first
        latest = max(profiles, key=lambda e: (self.ts(e), -e.attributes.signed_up_at.timestamp()))
        signed_up: datetime = latest.attributes.signed_up_at
        return min(first, max(1, math.floor(signed_up.timestamp())))

    def window(self, now: float, days: float) -> tuple[int, int]:
        """Exact transactions and cents with ``now - days < t <= now``."""
        inside = [(t, c) for t, c in self.transactions() if now - days * DAY < t <= now]
        return len(inside), sum(c for _, c in inside)

    def decayed(
        self, kinds: Iterable[EventType], now: float, tau_days: float, **match: Any
    ) -> float:
        total = 0.0
        for e in self.by(*kinds):
            if all(getattr(e.attributes, k) == v for k, v in match.items()):
                weight = float(getattr(e.attributes, "count", 1))
                total += weight * math.exp(-(now - self.ts(e)) / (tau_days * DAY))
        return total

    def rates(self, kind: EventType, now: float) -> tuple[float, float]:
        age = max(now - self.tenure_start(), DAY)
        short = self.decayed([kind], now, 7.0) / (7.0 * (1 - math.exp(-age / (7 * DAY))))
        long = self.decayed([kind], now, 90.0) / (90.0 * (1 - math.exp(-age / (90 * DAY))))
        return short, long

    def tables(self, kind: EventType, closing: str) -> dict[str, list[int]]:
        """id -> [first opened, last opened, last resolved] (0 = never)."""
        key = "complaint_id" if kind is EventType.COMPLAINT else "ticket_id"
        out: dict[str, list[int]] = {}
        for e in self.by(kind):
            entry = out.setdefault(getattr(e.attributes, key), [0, 0, 0])
            t = self.ts(e)
            if e.attributes.status == closing:
                entry[2] = max(entry[2], t)
            else:
                entry[0] = min(entry[0], t) if entry[0] else t
                entry[1] = max(entry[1], t)
        return out

    def consecutive_failures(self) -> int:
        last_success = max((t for t, _ in self.transactions()), default=0)
        return min(
            6, sum(1 for e in self.by(EventType.PAYMENT_FAILED) if self.ts(e) > last_success)
        )

    def latest(self, kind: EventType) -> Any:
        found = self.by(kind)
        return max(found, key=self.ts) if found else None


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def features_at(events: Sequence[Event], now: datetime) -> dict[str, float]:
    """Shortcut: the profile's features after living through ``events`` in order."""
    return features(build(events), now)
