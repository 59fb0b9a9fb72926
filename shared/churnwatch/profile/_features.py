"""`features`: the fixed, ordered numeric feature vector the churn model reads.

No feature is ever NaN or infinite: where data is missing, the value is a documented filler
and a ``has_*`` indicator says so. docs/profile.md defines every feature.
"""

from __future__ import annotations

from datetime import datetime

from churnwatch.events import OfferResponse, SubscriptionChange

from ._activities import ActivityVocabulary
from ._clock import DAY
from ._derived import (
    days_between,
    decayed_rates,
    email_counts,
    is_trial,
    next_renewal,
    open_entries,
    purchase_interval_days,
    subscription_state,
    tenure_start,
    trend,
    window_sums,
)
from ._state import BILLING_PERIODS, PERIOD_DAYS, SUBSCRIPTION_CHANGES, CustomerProfile

__all__ = ["FEATURE_NAMES", "contact_permissions", "feature_vector", "features"]

FEATURE_NAMES: tuple[str, ...] = (
    # recency, frequency, monetary
    "recency_days",
    "activity_recency_days",
    "has_purchase",
    "purchases_30d",
    "purchases_90d",
    "purchases_365d",
    "purchases_lifetime",
    "spend_30d",
    "spend_90d",
    "spend_365d",
    "spend_lifetime",
    "is_repeat_customer",
    "purchase_interval_days",
    "purchase_overdue_ratio",
    # activity trend
    "has_sessions",
    "sessions_per_day_short",
    "sessions_per_day_long",
    "sessions_trend",
    "feature_use_per_day_short",
    "feature_use_per_day_long",
    "feature_use_trend",
    # e-mail
    "email_delivered_30d",
    "email_opens_30d",
    "email_clicks_30d",
    "email_open_rate",
    "email_click_rate",
    "email_unsubscribed",
    "email_bounced",
    # service
    "complaints_unresolved",
    "complaint_oldest_unresolved_days",
    "complaint_escalated",
    "complaints_90d",
    "tickets_open",
    "tickets_30d",
    "has_nps",
    "nps_score",
    "nps_detractor",
    "nps_age_days",
    # payments
    "failed_payments_consecutive",
    "failed_payments_lifetime",
    # tenure and subscription
    "tenure_days",
    "is_subscription",
    "subscription_active",
    "cancellation_pending",
    "is_trial",
    "price_monthly",
    "renewals_lifetime",
    "has_renewal_date",
    "days_to_renewal",
    "has_price_increase",
    "days_since_price_increase",
    "price_increase_pct",
    "recent_downgrade",
    # refunds and offers
    "refunds_lifetime",
    "refund_share",
    "offer_accepted_90d",
    "offer_declined_90d",
)
"""Feature names, in the order of `feature_vector`; docs/profile.md defines each."""

_MONTHS = (0.0, *(PERIOD_DAYS[period] / (365.25 / 12) for period in BILLING_PERIODS))
_DOWNGRADE = SUBSCRIPTION_CHANGES.index(SubscriptionChange.DOWNGRADE) + 1
_ACCEPTED = 1 + list(OfferResponse).index(OfferResponse.ACCEPTED)
_DECLINED = (
    1 + list(OfferResponse).index(OfferResponse.DECLINED),
    1 + list(OfferResponse).index(OfferResponse.EXPIRED),
)
_RECENT = 90 * DAY


def features(
    profile: CustomerProfile, now: datetime, activities: ActivityVocabulary | None = None
) -> dict[str, float]:
    """The features of ``profile`` at event time ``now``, keyed by `FEATURE_NAMES` in order,
    then the per-activity features of ``activities`` (`ActivityVocabulary.feature_names`).

    >>> from datetime import UTC
    >>> values = features(CustomerProfile(), datetime(2026, 3, 1, tzinfo=UTC))
    >>> list(values) == list(FEATURE_NAMES), values["sessions_trend"], values["has_purchase"]
    (True, 1.0, 0.0)
    """
    out = dict(zip(FEATURE_NAMES, feature_vector(profile, now.timestamp()), strict=True))
    if activities is not None:
        out |= activities.features(profile, now.timestamp())
    return out


def feature_vector(p: CustomerProfile, now: float) -> list[float]:
    """The features as a list in `FEATURE_NAMES` order; ``now`` in seconds since the epoch.

    >>> len(feature_vector(CustomerProfile(), 1.8e9)) == len(FEATURE_NAMES)
    True
    """
    start = tenure_start(p)
    tenure = days_between(now, start) if start else 0.0
    # a pure subscriber's transactions are renewals: the retail block would copy renewals_*
    # (issue 13), so it stays at its "no purchase" filler; mixed customers keep it whole
    retail = p.purchases > 0 or not p.subscription
    c30, c90, c365, m30, m90, m365 = window_sums(p, now) if retail else (0, 0, 0, 0, 0, 0)
    tx_count, tx_cents = (p.tx_count, p.tx_cents) if retail else (0, 0)
    recency = days_between(now, p.last_tx) if tx_count else tenure
    interval = purchase_interval_days(p) if retail else 0.0
    s_short, s_long = decayed_rates(p.session_short, p.session_long, p.session_ref, now, start)
    f_short, f_long = decayed_rates(p.feature_short, p.feature_long, p.feature_ref, now, start)
    delivered, opened, clicked = email_counts(p, now)
    if p.complaints:
        complaints = open_entries(p.complaints)
        oldest = min((entry[0] for entry in complaints), default=0)
        escalated = 1.0 if any(entry[4] for entry in complaints) else 0.0
        recent = float(sum(1 for e in p.complaints.values() if e[0] and now - e[0] < 90 * DAY))
    else:  # most customers: skip four passes over an empty table
        complaints, oldest, escalated, recent = [], 0, 0.0, 0.0
    if p.tickets:
        tickets_open = float(len(open_entries(p.tickets)))
        tickets_30d = float(sum(1 for e in p.tickets.values() if e[0] and now - e[0] < 30 * DAY))
    else:
        tickets_open = tickets_30d = 0.0
    active, pending, _ = subscription_state(p, now)
    renewal = next_renewal(p) if active else 0
    if pending:
        renewal = 0
    offer_recent = now - p.offer_at < _RECENT
    return [
        recency,
        days_between(now, p.last_activity) if p.last_activity else tenure,
        1.0 if tx_count else 0.0,
        float(c30),
        float(c90),
        float(c365),
        float(tx_count),
        m30 / 100,
        m90 / 100,
        m365 / 100,
        tx_cents / 100,
        1.0 if p.purchases >= 2 else 0.0,
        interval,
        recency / interval if interval > 0 else 0.0,
        1.0 if p.session_ref else 0.0,
        s_short,
        s_long,
        trend(s_short, s_long),
        f_short,
        f_long,
        trend(f_short, f_long),
        delivered,
        opened,
        clicked,
        min(opened / delivered, 1.0) if delivered > 0 else 0.0,
        min(clicked / delivered, 1.0) if delivered > 0 else 0.0,
        1.0 if _unsubscribed(p) else 0.0,
        1.0 if p.email_bounced_at > p.email_set_at else 0.0,
        float(len(complaints)),
        days_between(now, oldest) if oldest else 0.0,
        escalated,
        recent,
        tickets_open,
        tickets_30d,
        1.0 if p.nps_at else 0.0,
        float(p.nps) if p.nps_at else 0.0,
        1.0 if p.nps_at and p.nps <= 6 else 0.0,
        days_between(now, p.nps_at) if p.nps_at else 0.0,
        float(len(p.failures)),
        float(p.failures_total),
        tenure,
        1.0 if p.subscription else 0.0,
        1.0 if active else 0.0,
        1.0 if pending else 0.0,
        1.0 if active and is_trial(p) else 0.0,
        p.price_cents / 100 / _MONTHS[p.period] if p.period and p.subscription else 0.0,
        float(p.renewals),
        1.0 if renewal else 0.0,
        (renewal - now) / DAY if renewal else 0.0,
        1.0 if p.increase_at else 0.0,
        days_between(now, p.increase_at) if p.increase_at else 0.0,
        p.increase_bp / 100 if p.increase_at else 0.0,
        1.0 if p.change_kind == _DOWNGRADE and now - p.change_at < _RECENT else 0.0,
        float(p.refunds),
        p.refund_cents / p.tx_cents if p.tx_cents else 0.0,
        1.0 if p.offer_response == _ACCEPTED and offer_recent else 0.0,
        1.0 if p.offer_response in _DECLINED and offer_recent else 0.0,
    ]


def contact_permissions(profile: CustomerProfile) -> dict[str, bool | None]:
    """Consent per channel (None = never stated); e-mail is also off after an unsubscribe,
    and every channel is off for an erased customer.

    >>> contact_permissions(CustomerProfile(consent_email=1, consent_email_at=5,
    ...                                     email_unsubscribed_at=9))
    {'email': False, 'sms': None, 'phone': None, 'push': None}
    """
    p = profile
    if p.erased:
        return dict.fromkeys(("email", "sms", "phone", "push"), False)
    flags = {"email": p.consent_email, "sms": p.consent_sms, "phone": p.consent_phone}
    out: dict[str, bool | None] = {
        name: None if flag < 0 else bool(flag)
        for name, flag in (*flags.items(), ("push", p.consent_push))
    }
    if _unsubscribed(p):
        out["email"] = False
    return out


def _unsubscribed(p: CustomerProfile) -> bool:
    """Unsubscribed (or marked as spam) after the latest e-mail consent given."""
    if not p.email_unsubscribed_at:
        return False
    return not (p.consent_email == 1 and p.consent_email_at > p.email_unsubscribed_at)
