"""Reasons in words: what a feature says about this customer, and the top risk drivers.

`describe` turns any feature of `FEATURE_NAMES` into a short phrase tied to the profile
("2 failed payments in a row", "sessions down 70% vs their 90-day rate"); `top_reasons` picks
the features a model's contributions say push the churn risk up most, with their phrases.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from churnwatch.events import OfferResponse

from ._clock import from_seconds
from ._derived import next_renewal, not_renewed
from ._features import FEATURE_NAMES, feature_vector
from ._state import EXIT_REASONS, FAILURE_CAPACITY, OFFER_RESPONSES, CustomerProfile

__all__ = ["Reason", "describe", "top_reasons"]


@dataclass(frozen=True, slots=True)
class Reason:
    """A feature pushing risk up: its name, its contribution, and what it means here."""

    feature: str
    weight: float
    text: str


_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}
Phrase = Callable[[CustomerProfile, Mapping[str, float]], str]


def describe(feature_name: str, profile: CustomerProfile, now: datetime) -> str:
    """What ``feature_name`` says about ``profile`` at ``now``, in words.

    >>> from datetime import UTC
    >>> describe("failed_payments_consecutive", CustomerProfile(failures=[1, 2]),
    ...          datetime(2026, 3, 1, tzinfo=UTC))
    '2 failed payments in a row'
    """
    if feature_name not in _INDEX:
        raise ValueError(f"unknown feature {feature_name!r}")
    values = dict(zip(FEATURE_NAMES, feature_vector(profile, now.timestamp()), strict=True))
    return _PHRASES[feature_name](profile, values)


def top_reasons(
    contributions: Mapping[str, float],
    profile: CustomerProfile,
    now: datetime,
    k: int = 3,
    *,
    values: Mapping[str, float] | None = None,
) -> list[Reason]:
    """The ``k`` features with the largest positive contributions, largest first, in words.

    ``values`` are the features of ``profile`` at ``now`` (`features`) when the caller already
    has them, as a scorer does: the phrases read them instead of computing the vector again,
    which is about half the cost of this call. They must be that vector, or the words lie.

    Names outside `FEATURE_NAMES` (an intercept, say) are skipped, as are contributions that
    are not positive; two features that read the same (a price increase's age and size) give
    one reason. Ties go to the earlier feature in `FEATURE_NAMES`.

    >>> from datetime import UTC
    >>> profile = CustomerProfile(failures=[1, 2, 3], nps=2, nps_at=1_770_000_000)
    >>> reasons = top_reasons({"failed_payments_consecutive": 0.8, "nps_score": 0.3,
    ...                        "tenure_days": -0.5, "bias": 2.0}, profile,
    ...                       datetime(2026, 3, 1, tzinfo=UTC))
    >>> [(r.feature, r.text) for r in reasons]
    [('failed_payments_consecutive', '3 failed payments in a row'), \
('nps_score', 'NPS 2 (detractor) on 2026-02-02')]
    >>> from churnwatch.profile import features
    >>> now = datetime(2026, 3, 1, tzinfo=UTC)
    >>> given = top_reasons({"nps_score": 0.3}, profile, now, values=features(profile, now))
    >>> given == top_reasons({"nps_score": 0.3}, profile, now)
    True
    """
    ranked = sorted(
        (name for name, weight in contributions.items() if name in _INDEX and weight > 0),
        key=lambda name: (-contributions[name], _INDEX[name]),
    )
    if not ranked:
        return []
    if values is None:
        values = dict(zip(FEATURE_NAMES, feature_vector(profile, now.timestamp()), strict=True))
    reasons: list[Reason] = []
    texts: set[str] = set()
    for name in ranked:
        text = _PHRASES[name](profile, values)
        if text not in texts:
            texts.add(text)
            reasons.append(Reason(name, contributions[name], text))
            if len(reasons) == k:
                break
    return reasons


def _n(count: float, noun: str, plural: str | None = None) -> str:
    n = int(count)
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def _days(days: float) -> str:
    return _n(math.floor(days), "day")


def _date(seconds: int) -> str:
    return from_seconds(seconds).date().isoformat()


def _money(amount: float, p: CustomerProfile) -> str:
    return f"{amount:.2f} {p.currency}" if p.currency else f"{amount:.2f}"


def _recency(p: CustomerProfile, v: Mapping[str, float]) -> str:
    if not p.tx_count:
        return f"no purchase yet in {_days(v['tenure_days'])}"
    usual = v["purchase_interval_days"]
    text = f"no purchase for {_days(v['recency_days'])}"
    return f"{text} (usually every {round(usual)})" if usual else text


def _activity(p: CustomerProfile, v: Mapping[str, float]) -> str:
    if not p.last_activity:
        return "no activity recorded"
    return f"no activity for {_days(v['activity_recency_days'])}"


def _window(kind: str, window: str) -> Phrase:
    def phrase(p: CustomerProfile, v: Mapping[str, float]) -> str:
        value = v[f"{kind}_{window}"]
        span = "in total" if window == "lifetime" else f"in the last {window[:-1]} days"
        if kind == "spend":
            return f"spent {_money(value, p)} {span}"
        return f"{_n(value, 'purchase')} {span}" if value else f"no purchases {span}"

    return phrase


def _trend(kind: str, label: str) -> Phrase:
    def phrase(p: CustomerProfile, v: Mapping[str, float]) -> str:
        if not (p.session_ref if kind == "sessions" else p.feature_ref):
            return f"no {label} recorded"
        change = round((v[f"{kind}_trend"] - 1) * 100)
        if abs(change) < 5:
            return f"{label} steady vs their 90-day rate"
        return f"{label} {'down' if change < 0 else 'up'} {abs(change)}% vs their 90-day rate"

    return phrase


def _complaints(p: CustomerProfile, v: Mapping[str, float]) -> str:
    n = v["complaints_unresolved"]
    if not n:
        return "no unresolved complaints"
    days = max(1, math.ceil(v["complaint_oldest_unresolved_days"]))
    span = "the last day" if days == 1 else f"the last {days} days"
    return f"{_n(n, 'unresolved complaint')} in {span}"


def _nps(p: CustomerProfile, v: Mapping[str, float]) -> str:
    if not p.nps_at:
        return "no NPS answer yet"
    kind = "detractor" if p.nps <= 6 else "passive" if p.nps <= 8 else "promoter"
    return f"NPS {p.nps} ({kind}) on {_date(p.nps_at)}"


def _failures(p: CustomerProfile, v: Mapping[str, float]) -> str:
    n = len(p.failures)
    if not n:
        return "no failed payment since the last successful one"
    return f"{'at least ' if n == FAILURE_CAPACITY else ''}{_n(n, 'failed payment')} in a row"


def _subscription(p: CustomerProfile, v: Mapping[str, float]) -> str:
    if not p.subscription:
        return "no subscription"
    if v["cancellation_pending"]:
        return _cancellation(p, v)
    if not v["subscription_active"]:
        end = p.cancel_effective or p.cancel_at
        if not end:
            return "no active subscription"
        how = "not renewed, ended" if not_renewed(p) else "subscription ended"
        return f"{how} on {_date(end)}"
    plan = f" to {p.plan}" if p.plan else ""
    return f"on a trial{plan}" if v["is_trial"] else f"subscribed{plan}"


def _cancellation(p: CustomerProfile, v: Mapping[str, float]) -> str:
    if not p.cancel_at:
        return "no cancellation"
    if not_renewed(p):
        return f"not renewed: ends {_date(p.cancel_effective or p.cancel_at)}"
    reason = f" (reason: {EXIT_REASONS[p.exit_reason - 1].value})" if p.exit_reason else ""
    end = p.cancel_effective or p.cancel_at
    ends = f", ends {_date(end)}" if end > p.cancel_at else ""
    return f"cancelled on {_date(p.cancel_at)}{reason}{ends}"


def _renewal(p: CustomerProfile, v: Mapping[str, float]) -> str:
    if not v["has_renewal_date"]:
        return "no renewal due" if not next_renewal(p) else "renewal not expected"
    days = v["days_to_renewal"]
    if days < 0:
        return f"renewal overdue by {_days(-days)} (due {_date(next_renewal(p))})"
    return f"renewal due in {_days(days)}" if days >= 1 else "renewal due today"


def _price(p: CustomerProfile, v: Mapping[str, float]) -> str:
    if not p.increase_at:
        return "no price increase"
    pct = p.increase_bp / 100
    return f"price up {pct:.0f}% on {_date(p.increase_at)}"


def _offer(p: CustomerProfile, v: Mapping[str, float]) -> str:
    if not p.offer_response:
        return "no offer response"
    response = OFFER_RESPONSES[p.offer_response - 1]
    verb = {
        OfferResponse.ACCEPTED: "accepted an offer",
        OfferResponse.DECLINED: "declined an offer",
        OfferResponse.EXPIRED: "let an offer expire",
    }.get(response, f"offer {response.value}")
    return f"{verb} on {_date(p.offer_at)}"


def _email(p: CustomerProfile, v: Mapping[str, float]) -> str:
    if v["email_unsubscribed"]:
        return f"unsubscribed from e-mails on {_date(p.email_unsubscribed_at)}"
    if v["email_bounced"]:
        return f"e-mails bounced on {_date(p.email_bounced_at)}"
    if not v["email_delivered_30d"]:
        if v["email_opens_30d"]:
            return f"{v['email_opens_30d']:.1f} e-mail opens in the last 30 days (decayed)"
        return "no e-mails delivered lately"
    return (
        f"opens {v['email_open_rate']:.0%} and clicks {v['email_click_rate']:.0%} of e-mails lately"
    )


def _refunds(p: CustomerProfile, v: Mapping[str, float]) -> str:
    if not p.refunds:
        return "no refunds"
    amount = _money(p.refund_cents / 100, p)
    return f"{_n(p.refunds, 'refund')} ({amount}, {v['refund_share']:.0%} of spend)"


_PHRASES: dict[str, Phrase] = {
    "recency_days": _recency,
    "activity_recency_days": _activity,
    "has_purchase": lambda p, v: "has purchased" if p.tx_count else "no purchase yet",
    **{
        f"{kind}_{w}": _window(kind, w)
        for kind in ("purchases", "spend")
        for w in ("30d", "90d", "365d", "lifetime")
    },
    "is_repeat_customer": lambda p, v: (
        "repeat customer"
        if v["is_repeat_customer"]
        else "bought only once"
        if p.tx_count
        else "no repeat purchase yet"
    ),
    "purchase_interval_days": lambda p, v: (
        f"buys every {round(v['purchase_interval_days'])} days on average"
        if v["purchase_interval_days"]
        else "not enough purchases for a usual interval"
    ),
    "purchase_overdue_ratio": _recency,
    "has_sessions": _trend("sessions", "sessions"),
    "sessions_per_day_short": _trend("sessions", "sessions"),
    "sessions_per_day_long": _trend("sessions", "sessions"),
    "sessions_trend": _trend("sessions", "sessions"),
    "feature_use_per_day_short": _trend("feature_use", "feature use"),
    "feature_use_per_day_long": _trend("feature_use", "feature use"),
    "feature_use_trend": _trend("feature_use", "feature use"),
    **{name: _email for name in FEATURE_NAMES if name.startswith("email_")},
    "complaints_unresolved": _complaints,
    "complaint_oldest_unresolved_days": _complaints,
    "complaint_escalated": lambda p, v: (
        "an unresolved complaint was escalated"
        if v["complaint_escalated"]
        else "no escalated complaint"
    ),
    "complaints_90d": lambda p, v: f"{_n(v['complaints_90d'], 'complaint')} in the last 90 days",
    "tickets_open": lambda p, v: f"{_n(v['tickets_open'], 'open support ticket')}",
    "tickets_30d": lambda p, v: f"{_n(v['tickets_30d'], 'support ticket')} in the last 30 days",
    "has_nps": _nps,
    "nps_score": _nps,
    "nps_detractor": _nps,
    "nps_age_days": _nps,
    "failed_payments_consecutive": _failures,
    "failed_payments_lifetime": lambda p, v: f"{_n(p.failures_total, 'failed payment')} in total",
    "tenure_days": lambda p, v: f"customer for {_days(v['tenure_days'])}",
    "is_subscription": _subscription,
    "subscription_active": _subscription,
    "cancellation_pending": _cancellation,
    "is_trial": _subscription,
    "price_monthly": lambda p, v: f"pays {_money(v['price_monthly'], p)} a month",
    "renewals_lifetime": lambda p, v: f"renewed {_n(p.renewals, 'time')}",
    "has_renewal_date": _renewal,
    "days_to_renewal": _renewal,
    "has_price_increase": _price,
    "days_since_price_increase": _price,
    "price_increase_pct": _price,
    "recent_downgrade": lambda p, v: (
        f"downgraded on {_date(p.change_at)}" if v["recent_downgrade"] else "no recent downgrade"
    ),
    "refunds_lifetime": _refunds,
    "refund_share": _refunds,
    "offer_accepted_90d": _offer,
    "offer_declined_90d": _offer,
}
