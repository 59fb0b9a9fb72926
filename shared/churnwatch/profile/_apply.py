"""`apply`: fold one event into a `CustomerProfile`, in event time, in place.

Every update is written so that the order of arrival does not matter: counters add, first/last
times take the min/max, "latest" values are last-writer-wins by event time (ties broken by the
value, never by arrival), decayed counts are decayed to their reference time (``_clock``).
docs/profile.md lists the few bounded tables where a very late event can be approximate.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from decimal import Decimal
from math import exp
from typing import Any
from zlib import crc32

from churnwatch.events import (
    ComplaintAttributes,
    ComplaintStatus,
    CustomerErasedAttributes,
    CustomerProfileAttributes,
    EmailAction,
    EmailEngagementAttributes,
    Event,
    EventType,
    ExitReason,
    FeatureUseAttributes,
    NpsAttributes,
    OfferResponse,
    OfferResponseAttributes,
    PaymentFailedAttributes,
    PurchaseAttributes,
    RefundAttributes,
    SessionAttributes,
    Severity,
    SubscriptionCancelledAttributes,
    SubscriptionChange,
    SubscriptionChangedAttributes,
    SubscriptionExpiredAttributes,
    SubscriptionRenewedAttributes,
    SubscriptionStartedAttributes,
    SupportTicketAttributes,
    TicketStatus,
)

from ._activities import add_activity
from ._clock import DAY, WEEK, add_decayed, to_seconds
from ._state import (
    BILLING_PERIODS,
    COMPLAINT_CAPACITY,
    EXIT_REASONS,
    FAILURE_CAPACITY,
    OFFER_RESPONSES,
    PLAN_MAX_BYTES,
    SEEN_CAPACITY,
    SUBSCRIPTION_CHANGES,
    TAU_EMAIL_DAYS,
    TAU_LONG_DAYS,
    TAU_SHORT_DAYS,
    TICKET_CAPACITY,
    TX_WEEKS,
    WEEK_CENTS_MAX,
    WEEK_COUNT_MAX,
    CustomerProfile,
)
from ._tables import prune, track

__all__ = ["BP_LIMIT", "apply", "event_key"]

BP_LIMIT = 1_000_000
"""Price changes are kept in basis points, clamped to ±1,000,000 (±10,000%)."""

_TAU_S = TAU_SHORT_DAYS * DAY
_TAU_L = TAU_LONG_DAYS * DAY
_TAU_E = TAU_EMAIL_DAYS * DAY
_PERIOD = {period: i + 1 for i, period in enumerate(BILLING_PERIODS)}
_EXIT = {reason: i + 1 for i, reason in enumerate(EXIT_REASONS)}
_OFFER = {response: i + 1 for i, response in enumerate(OFFER_RESPONSES)}
_CHANGE = {change: i + 1 for i, change in enumerate(SUBSCRIPTION_CHANGES)}
_SEVERITY = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}


def event_key(event_id: str) -> int:
    """The 32-bit hash under which an event id is remembered (CRC-32 of its ASCII bytes).

    >>> event_key("evt_1")
    3869339981
    """
    return crc32(event_id.encode())


def apply(profile: CustomerProfile, event: Event) -> bool:
    """Fold ``event`` into ``profile``; False if it changed nothing (a duplicate, or erased).

    >>> from churnwatch.events import EXAMPLES, PurchaseEvent
    >>> purchase = PurchaseEvent.model_validate(EXAMPLES[EventType.PURCHASE])
    >>> profile = CustomerProfile()
    >>> apply(profile, purchase), apply(profile, purchase), profile.tx_count, profile.tx_cents
    (True, False, 1, 5990)
    """
    if profile.erased:
        return False
    key = crc32(event.event_id.encode())
    seen = profile.seen
    if key in seen:
        return False
    seen.append(key)
    if len(seen) > SEEN_CAPACITY:
        del seen[0]
    t = to_seconds(event.occurred_at)
    profile.events += 1
    if t < profile.first_seen or not profile.first_seen:
        profile.first_seen = t
    if t > profile.last_event:
        profile.last_event = t
    _HANDLERS[event.event_type](profile, event.attributes, t)
    return True


def _active(p: CustomerProfile, t: int) -> None:
    if t > p.last_activity:
        p.last_activity = t


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _customer_profile(p: CustomerProfile, a: CustomerProfileAttributes, t: int) -> None:
    if a.signed_up_at is not None:
        value = to_seconds(a.signed_up_at)
        if t > p.signed_up_set_at or (t == p.signed_up_set_at and value < p.signed_up):
            p.signed_up, p.signed_up_set_at = value, t
    if a.email is not None and t > p.email_set_at:
        p.email_set_at = t
    consent = a.consent
    for name, given in (
        ("email", consent.email),
        ("sms", consent.sms),
        ("phone", consent.phone),
        ("push", consent.push),
    ):
        if given is not None:
            at = getattr(p, f"consent_{name}_at")
            if t > at or (t == at and int(given) < getattr(p, f"consent_{name}")):
                setattr(p, f"consent_{name}", int(given))
                setattr(p, f"consent_{name}_at", t)


def _session(p: CustomerProfile, a: SessionAttributes, t: int) -> None:
    p.session_short, _ = add_decayed(p.session_short, p.session_ref, 1.0, t, _TAU_S)
    p.session_long, p.session_ref = add_decayed(p.session_long, p.session_ref, 1.0, t, _TAU_L)
    _active(p, t)


def _feature_use(p: CustomerProfile, a: FeatureUseAttributes, t: int) -> None:
    n = float(a.count)
    p.feature_short, _ = add_decayed(p.feature_short, p.feature_ref, n, t, _TAU_S)
    p.feature_long, p.feature_ref = add_decayed(p.feature_long, p.feature_ref, n, t, _TAU_L)
    add_activity(p, a.feature, n, t)
    _active(p, t)


def _email(p: CustomerProfile, a: EmailEngagementAttributes, t: int) -> None:
    action = a.action
    if action is EmailAction.BOUNCED:
        if t > p.email_bounced_at:
            p.email_bounced_at = t
        return
    if action is EmailAction.UNSUBSCRIBED or action is EmailAction.SPAM_COMPLAINT:
        if t > p.email_unsubscribed_at:
            p.email_unsubscribed_at = t
        return
    ref = p.email_ref
    if t > ref:
        factor = exp((ref - t) / _TAU_E)
        p.email_delivered *= factor
        p.email_opened *= factor
        p.email_clicked *= factor
        p.email_ref = ref = t
    weight = exp((t - ref) / _TAU_E) if t < ref else 1.0
    if action is EmailAction.DELIVERED:
        p.email_delivered += weight
    elif action is EmailAction.OPENED:
        p.email_opened += weight
        _active(p, t)
    else:
        p.email_clicked += weight
        _active(p, t)


def _ticket(p: CustomerProfile, a: SupportTicketAttributes, t: int) -> None:
    status = a.status
    if status is TicketStatus.OPENED:
        p.tickets_total += 1
    _active(p, t)
    entry = track(
        p.tickets, a.ticket_id, t, p.last_event, closes=status is TicketStatus.RESOLVED, size=3
    )
    if entry is not None:
        prune(p.tickets, p.last_event, TICKET_CAPACITY)


def _complaint(p: CustomerProfile, a: ComplaintAttributes, t: int) -> None:
    status = a.status
    if status is ComplaintStatus.OPENED:
        p.complaints_total += 1
    _active(p, t)
    entry = track(
        p.complaints,
        a.complaint_id,
        t,
        p.last_event,
        closes=status is ComplaintStatus.RESOLVED,
        size=5,
    )
    if entry is not None:
        entry[3] = max(entry[3], _SEVERITY[a.severity])
        if status is ComplaintStatus.ESCALATED:
            entry[4] = 1
        prune(p.complaints, p.last_event, COMPLAINT_CAPACITY)


def _nps(p: CustomerProfile, a: NpsAttributes, t: int) -> None:
    if t > p.nps_at or (t == p.nps_at and a.score < p.nps):
        p.nps, p.nps_at = a.score, t
    _active(p, t)


def _transaction(p: CustomerProfile, t: int, cents: int) -> None:
    p.tx_count += 1
    p.tx_cents += cents
    if t < p.first_tx or not p.first_tx:
        p.first_tx = t
    if t > p.last_tx:
        p.last_tx = t
    if t > p.last_success:
        p.last_success = t
        if p.failures:
            p.failures = [f for f in p.failures if f > t]
    week, newest = t // WEEK, p.last_event // WEEK
    if week <= newest - TX_WEEKS:
        return
    weeks = p.tx_weeks
    bucket = weeks.get(week)
    if bucket is None:
        weeks[week] = [1, min(cents, WEEK_CENTS_MAX)]
        for old in [w for w in weeks if w <= newest - TX_WEEKS]:
            del weeks[old]
    else:
        bucket[0] = min(bucket[0] + 1, WEEK_COUNT_MAX)
        bucket[1] = min(bucket[1] + cents, WEEK_CENTS_MAX)


def _purchase(p: CustomerProfile, a: PurchaseAttributes, t: int) -> None:
    p.purchases += 1
    _transaction(p, t, _cents(a.amount))
    _active(p, t)


def _refund(p: CustomerProfile, a: RefundAttributes, t: int) -> None:
    p.refunds += 1
    p.refund_cents += _cents(a.amount)
    if t > p.last_refund:
        p.last_refund = t


def _plan(p: CustomerProfile, t: int, plan: str, cents: int, currency: str, period: int) -> None:
    p.subscription = True
    if t > p.sub_active_at:
        p.sub_active_at = t
    plan = plan.encode()[:PLAN_MAX_BYTES].decode(errors="ignore")
    new = (plan, cents, currency, period)
    if t > p.plan_at or (t == p.plan_at and new > (p.plan, p.price_cents, p.currency, p.period)):
        p.plan, p.price_cents, p.currency, p.period = new
        p.plan_at = t


def _started(p: CustomerProfile, a: SubscriptionStartedAttributes, t: int) -> None:
    cents = _cents(a.price)
    _plan(p, t, a.plan, cents, a.currency, _PERIOD[a.billing_period])
    if t < p.subscribed_since or not p.subscribed_since:
        p.subscribed_since = t
    if t > p.last_started or (t == p.last_started and a.trial < p.started_trial):
        p.last_started, p.started_trial = t, a.trial
    if not a.trial and cents > 0:
        _transaction(p, t, cents)
    _active(p, t)


def _renewed(p: CustomerProfile, a: SubscriptionRenewedAttributes, t: int) -> None:
    cents = _cents(a.price)
    _plan(p, t, a.plan, cents, a.currency, _PERIOD[a.billing_period])
    p.renewals += 1
    if t > p.last_renewal:
        p.last_renewal = t
    _transaction(p, t, cents)


def _basis_points(old: Decimal, new: Decimal) -> int:
    if old == 0:
        return BP_LIMIT if new > 0 else 0
    return max(-BP_LIMIT, min(BP_LIMIT, int((new / old * 10_000).to_integral_value()) - 10_000))


def _changed(p: CustomerProfile, a: SubscriptionChangedAttributes, t: int) -> None:
    _plan(p, t, a.to_plan, _cents(a.new_price), a.currency, _PERIOD[a.billing_period])
    kind, bp = _CHANGE[a.change], _basis_points(a.old_price, a.new_price)
    if t > p.change_at or (t == p.change_at and (kind, bp) > (p.change_kind, p.change_bp)):
        p.change_kind, p.change_bp, p.change_at = kind, bp, t
    if a.change is SubscriptionChange.PRICE_INCREASE and (
        t > p.increase_at or (t == p.increase_at and bp > p.increase_bp)
    ):
        p.increase_bp, p.increase_at = bp, t
    if a.change is SubscriptionChange.UPGRADE or a.change is SubscriptionChange.DOWNGRADE:
        _active(p, t)


def _cancelled(p: CustomerProfile, a: SubscriptionCancelledAttributes, t: int) -> None:
    p.subscription = True
    effective = t if a.effective_at is None else to_seconds(a.effective_at)
    reason = 0 if a.exit_reason is None else _EXIT[a.exit_reason]
    _end(p, t, effective, reason)


def _expired(p: CustomerProfile, a: SubscriptionExpiredAttributes, t: int) -> None:
    """Non-renewal: the subscription's end, recorded as a cancellation with reason ``expired``
    (same last-writer-wins rule, so lifecycle, reasons and labels read one end)."""
    p.subscription = True
    effective = t if a.effective_at is None else to_seconds(a.effective_at)
    _end(p, t, effective, _EXIT[ExitReason.EXPIRED])


def _end(p: CustomerProfile, t: int, effective: int, reason: int) -> None:
    if t > p.cancel_at or (
        t == p.cancel_at and (effective, reason) > (p.cancel_effective, p.exit_reason)
    ):
        p.cancel_at, p.cancel_effective, p.exit_reason = t, effective, reason


def _payment_failed(p: CustomerProfile, a: PaymentFailedAttributes, t: int) -> None:
    if a.subscription_id is not None:
        p.subscription = True
    p.failures_total += 1
    if t > p.last_failure:
        p.last_failure = t
    if t > p.last_success:
        insort(p.failures, t)
        if len(p.failures) > FAILURE_CAPACITY:
            del p.failures[0]


def _offer(p: CustomerProfile, a: OfferResponseAttributes, t: int) -> None:
    code = _OFFER[a.response]
    if t > p.offer_at or (t == p.offer_at and code > p.offer_response):
        p.offer_response, p.offer_at = code, t
    if a.response is OfferResponse.ACCEPTED or a.response is OfferResponse.OPENED:
        _active(p, t)


def _erased(p: CustomerProfile, a: CustomerErasedAttributes, t: int) -> None:
    blank = CustomerProfile()
    for name in CustomerProfile.__slots__:
        setattr(p, name, getattr(blank, name))
    p.erased, p.erased_at = True, t


_HANDLERS: dict[EventType, Callable[[CustomerProfile, Any, int], None]] = {
    EventType.CUSTOMER_PROFILE: _customer_profile,
    EventType.SESSION: _session,
    EventType.FEATURE_USE: _feature_use,
    EventType.EMAIL_ENGAGEMENT: _email,
    EventType.SUPPORT_TICKET: _ticket,
    EventType.COMPLAINT: _complaint,
    EventType.NPS: _nps,
    EventType.PURCHASE: _purchase,
    EventType.REFUND: _refund,
    EventType.SUBSCRIPTION_STARTED: _started,
    EventType.SUBSCRIPTION_RENEWED: _renewed,
    EventType.SUBSCRIPTION_CHANGED: _changed,
    EventType.SUBSCRIPTION_CANCELLED: _cancelled,
    EventType.PAYMENT_FAILED: _payment_failed,
    EventType.OFFER_RESPONSE: _offer,
    EventType.CUSTOMER_ERASED: _erased,
    EventType.SUBSCRIPTION_EXPIRED: _expired,
}
