"""`CustomerProfile`: the live, bounded state the scoring service keeps per customer.

A mutable ``dataclass(slots=True)``, updated in place by `churnwatch.profile.apply`. Every
instant is an ``int`` of seconds since the epoch with ``0`` for "never" (see ``_clock``);
amounts are whole cents (``int``, exact, so sums do not depend on the order of events);
enumerations are small ints (index + 1 in the tuples below, ``0`` for none). docs/profile.md
lists every field with its size and its behaviour under late and duplicate events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from churnwatch.events import (
    BillingPeriod,
    ExitReason,
    OfferResponse,
    SubscriptionChange,
)

__all__ = [
    "ACTIVITY_CAPACITY",
    "BILLING_PERIODS",
    "COMPLAINT_CAPACITY",
    "EXIT_REASONS",
    "FAILURE_CAPACITY",
    "OFFER_RESPONSES",
    "PERIOD_DAYS",
    "PLAN_MAX_BYTES",
    "SEEN_CAPACITY",
    "SUBSCRIPTION_CHANGES",
    "TABLE_HORIZON_DAYS",
    "TAU_EMAIL_DAYS",
    "TAU_LONG_DAYS",
    "TAU_SHORT_DAYS",
    "TICKET_CAPACITY",
    "TX_WEEKS",
    "WEEK_CENTS_MAX",
    "WEEK_COUNT_MAX",
    "CustomerProfile",
    "Stage",
]

TAU_SHORT_DAYS = 7.0
"""Time constant (days) of the short session and feature-use rates."""

TAU_LONG_DAYS = 90.0
"""Time constant (days) of the long session and feature-use rates."""

TAU_EMAIL_DAYS = 30.0
"""Time constant (days) of the decayed e-mail counts."""

TX_WEEKS = 54
"""Weekly purchase buckets kept: the week of the latest event and the 53 before it (365 days
can touch 54 calendar weeks)."""

WEEK_COUNT_MAX = 2**16 - 1
"""A weekly bucket's transaction count saturates here (lifetime totals do not)."""

WEEK_CENTS_MAX = 2**32 - 1
"""A weekly bucket's cents saturate here (about 43 million currency units per customer-week;
4 bytes since format 2, which made room for the activity table)."""

ACTIVITY_CAPACITY = 6
"""Activity names (``feature_use`` ``attributes.feature``) tracked per customer."""

SEEN_CAPACITY = 24
"""Recent event-id hashes kept for duplicate detection."""

COMPLAINT_CAPACITY = 5
"""Complaints (by ``complaint_id``) tracked at once."""

TICKET_CAPACITY = 5
"""Support tickets (by ``ticket_id``) tracked at once."""

FAILURE_CAPACITY = 6
"""Failed payments since the last success that are remembered (the count saturates here)."""

TABLE_HORIZON_DAYS = 90
"""Resolved complaints/tickets are forgotten, and late events about unknown ones ignored,
this many days before the latest event."""

PLAN_MAX_BYTES = 32
"""The plan name is kept to this many UTF-8 bytes (cut at a character boundary)."""

BILLING_PERIODS: tuple[BillingPeriod, ...] = tuple(BillingPeriod)
EXIT_REASONS: tuple[ExitReason, ...] = tuple(ExitReason)
OFFER_RESPONSES: tuple[OfferResponse, ...] = tuple(OfferResponse)
SUBSCRIPTION_CHANGES: tuple[SubscriptionChange, ...] = tuple(SubscriptionChange)

PERIOD_DAYS: dict[BillingPeriod, float] = {
    BillingPeriod.MONTHLY: 365.25 / 12,
    BillingPeriod.QUARTERLY: 365.25 / 4,
    BillingPeriod.YEARLY: 365.25,
}
"""Average length of a billing period, in days."""


class Stage(IntEnum):
    """Lifecycle stages (docs/kpis.md); ``NONE`` until the first `transition`."""

    NONE = 0
    NEW = 1
    ACTIVE = 2
    REPEAT = 3
    AT_RISK = 4
    LAPSED = 5
    CHURNED = 6
    REACTIVATED = 7

    @property
    def label(self) -> str:
        """The stage's name as shown in the API: ``Stage.AT_RISK.label == "at_risk"``."""
        return self.name.lower()


@dataclass(slots=True)
class CustomerProfile:
    """One customer's live state, in event time; start from ``CustomerProfile()``.

    >>> from churnwatch.events import EXAMPLES, EventType, SessionEvent
    >>> from churnwatch.profile import apply
    >>> profile = CustomerProfile()
    >>> apply(profile, SessionEvent.model_validate(EXAMPLES[EventType.SESSION]))
    True
    >>> CustomerProfile.from_bytes(profile.to_bytes()) == profile
    True
    """

    # bookkeeping
    events: int = 0
    first_seen: int = 0
    last_event: int = 0
    last_activity: int = 0
    # transactions: purchases, renewals and paid subscription starts
    tx_count: int = 0
    tx_cents: int = 0
    first_tx: int = 0
    last_tx: int = 0
    purchases: int = 0
    # activity trend: decayed counts (value at ``*_ref``)
    session_ref: int = 0
    session_short: float = 0.0
    session_long: float = 0.0
    feature_ref: int = 0
    feature_short: float = 0.0
    feature_long: float = 0.0
    # e-mail
    email_ref: int = 0
    email_delivered: float = 0.0
    email_opened: float = 0.0
    email_clicked: float = 0.0
    email_bounced_at: int = 0
    email_unsubscribed_at: int = 0
    email_set_at: int = 0
    # service
    complaints_total: int = 0
    tickets_total: int = 0
    nps: int = -1
    nps_at: int = 0
    # payments
    failures_total: int = 0
    last_failure: int = 0
    last_success: int = 0
    # tenure and consent (last writer wins, by event time); consent: -1 unknown, 0 no, 1 yes
    signed_up: int = 0
    signed_up_set_at: int = 0
    consent_email: int = -1
    consent_email_at: int = 0
    consent_sms: int = -1
    consent_sms_at: int = 0
    consent_phone: int = -1
    consent_phone_at: int = 0
    consent_push: int = -1
    consent_push_at: int = 0
    # subscription
    subscription: bool = False
    currency: str = ""
    price_cents: int = 0
    period: int = 0
    plan_at: int = 0
    subscribed_since: int = 0
    last_started: int = 0
    started_trial: bool = False
    last_renewal: int = 0
    renewals: int = 0
    sub_active_at: int = 0
    change_kind: int = 0
    change_bp: int = 0
    change_at: int = 0
    increase_bp: int = 0
    increase_at: int = 0
    cancel_at: int = 0
    cancel_effective: int = 0
    exit_reason: int = 0
    # refunds, offers, erasure, lifecycle
    refunds: int = 0
    refund_cents: int = 0
    last_refund: int = 0
    offer_response: int = 0
    offer_at: int = 0
    erased: bool = False
    erased_at: int = 0
    stage: int = Stage.NONE
    stage_since: int = 0
    # variable-length parts
    plan: str = ""
    tx_weeks: dict[int, list[int]] = field(default_factory=dict)
    """week index (``seconds // WEEK``) -> [transactions, cents]"""
    complaints: dict[int, list[int]] = field(default_factory=dict)
    """id hash -> [first opened, last opened/escalated, last resolved, max severity, escalated]"""
    tickets: dict[int, list[int]] = field(default_factory=dict)
    """id hash -> [first opened, last opened/reopened, last resolved]"""
    failures: list[int] = field(default_factory=list)
    """times of failed payments after ``last_success``, ascending"""
    seen: list[int] = field(default_factory=list)
    """crc32 of the most recent event ids, oldest first"""
    activity_ref: int = 0
    activities: dict[int, list[float]] = field(default_factory=dict)
    """crc32 of an activity name -> [short, long] decayed uses at ``activity_ref`` (float32)"""

    def to_bytes(self) -> bytes:
        """The compact binary form (at most 1,024 bytes), see `from_bytes`."""
        from ._codec import encode

        return encode(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> CustomerProfile:
        """The profile `to_bytes` wrote; raises `ProfileDecodeError` on foreign bytes."""
        from ._codec import decode

        return decode(data)
