"""Quantities derived from a profile at a moment ``now`` (seconds): shared by the features,
the reason phrases and the lifecycle rules so that all three say the same thing."""

from __future__ import annotations

from math import exp

from churnwatch.events import ExitReason

from ._clock import DAY, WEEK
from ._state import (
    BILLING_PERIODS,
    EXIT_REASONS,
    PERIOD_DAYS,
    TAU_EMAIL_DAYS,
    TAU_LONG_DAYS,
    TAU_SHORT_DAYS,
    CustomerProfile,
)

__all__ = [
    "RATE_FLOOR",
    "WINDOWS",
    "days_between",
    "decayed_rates",
    "email_counts",
    "is_trial",
    "next_renewal",
    "not_renewed",
    "open_entries",
    "purchase_interval_days",
    "subscription_state",
    "tenure_start",
    "trend",
    "window_sums",
]

WINDOWS = (30, 90, 365)
"""Purchase windows in days; a window counts every weekly bucket that overlaps it."""

RATE_FLOOR = 0.01
"""Added to both rates of a trend ratio (per day), so that a ratio of tiny rates stays sane."""

_TAU_S = TAU_SHORT_DAYS * DAY
_TAU_L = TAU_LONG_DAYS * DAY
_TAU_E = TAU_EMAIL_DAYS * DAY
_PERIOD_SECONDS = (0.0, *(PERIOD_DAYS[period] * DAY for period in BILLING_PERIODS))


def days_between(now: float, then: int) -> float:
    """Days from ``then`` to ``now``, never negative.

    >>> days_between(3 * 86_400.0, 86_400)
    2.0
    """
    return (now - then) / DAY if now > then else 0.0


def tenure_start(p: CustomerProfile) -> int:
    """The earlier of sign-up and first event (0 if neither is known)."""
    if p.signed_up and (p.signed_up < p.first_seen or not p.first_seen):
        return p.signed_up
    return p.first_seen


def window_sums(p: CustomerProfile, now: float) -> tuple[int, int, int, int, int, int]:
    """Transactions and cents in the 30/90/365-day windows ending at ``now``.

    A weekly bucket counts in a window if any part of its week lies after the window's start:
    a window of N days covers between N and N + 7 days.
    """
    c30 = c90 = c365 = m30 = m90 = m365 = 0
    start30, start90, start365 = now - 30 * DAY, now - 90 * DAY, now - 365 * DAY
    for week, (count, cents) in p.tx_weeks.items():
        end = (week + 1) * WEEK
        if end > start365:
            c365 += count
            m365 += cents
            if end > start90:
                c90 += count
                m90 += cents
                if end > start30:
                    c30 += count
                    m30 += cents
    return c30, c90, c365, m30, m90, m365


def purchase_interval_days(p: CustomerProfile) -> float:
    """Mean days between transactions (first to last over count - 1), 0 with fewer than 2."""
    if p.tx_count < 2:
        return 0.0
    return (p.last_tx - p.first_tx) / DAY / (p.tx_count - 1)


def decayed_rates(
    short: float, long: float, ref: int, now: float, start: int
) -> tuple[float, float]:
    """Events per day under the short and long time constants, as of ``now``.

    Each decayed count is divided by what a steady rate of 1/day would have built up since
    ``start`` (at least one day), so a new customer's long rate is not biased low.
    """
    if not ref:
        return 0.0, 0.0
    age = max(now - start, DAY)
    s = short * exp((ref - now) / _TAU_S) / (TAU_SHORT_DAYS * (1.0 - exp(-age / _TAU_S)))
    lg = long * exp((ref - now) / _TAU_L) / (TAU_LONG_DAYS * (1.0 - exp(-age / _TAU_L)))
    return s, lg


def trend(short: float, long: float) -> float:
    """Short rate over long rate, each plus `RATE_FLOOR`: 1 = steady, 0.3 = down 70%.

    >>> trend(0.3, 1.0) < 0.31, trend(0.0, 0.0)
    (True, 1.0)
    """
    return (short + RATE_FLOOR) / (long + RATE_FLOOR)


def email_counts(p: CustomerProfile, now: float) -> tuple[float, float, float]:
    """Decayed delivered, opened and clicked e-mails (time constant 30 days) at ``now``."""
    if not p.email_ref:
        return 0.0, 0.0, 0.0
    factor = exp((p.email_ref - now) / _TAU_E)
    return p.email_delivered * factor, p.email_opened * factor, p.email_clicked * factor


def open_entries(table: dict[int, list[int]]) -> list[list[int]]:
    """Complaints or tickets still open: opened (or reopened) after their last resolution."""
    return [entry for entry in table.values() if entry[1] > entry[2]]


def subscription_state(p: CustomerProfile, now: float) -> tuple[bool, bool, bool]:
    """(active, cancellation pending, ended) of the customer's subscription at ``now``.

    A cancellation counts if no start, renewal or change came after it; it ends the
    subscription at its ``effective_at`` (or at once).
    """
    cancelled = p.cancel_at >= p.sub_active_at and p.cancel_at > 0
    if not cancelled:
        return p.sub_active_at > 0, False, False
    ended = now >= (p.cancel_effective or p.cancel_at)
    return (not ended and p.sub_active_at > 0), not ended, ended


def not_renewed(p: CustomerProfile) -> bool:
    """The recorded end is a ``subscription_expired`` (non-renewal), not a cancellation.

    >>> p = CustomerProfile(exit_reason=EXIT_REASONS.index(ExitReason.EXPIRED) + 1)
    >>> not_renewed(p), not_renewed(CustomerProfile())
    (True, False)
    """
    return p.exit_reason > 0 and EXIT_REASONS[p.exit_reason - 1] is ExitReason.EXPIRED


def next_renewal(p: CustomerProfile) -> int:
    """When the next renewal is due (seconds): last start or renewal + one billing period."""
    billed = max(p.last_renewal, p.last_started)
    if not billed or not p.period:
        return 0
    return billed + round(_PERIOD_SECONDS[p.period])


def is_trial(p: CustomerProfile) -> bool:
    """The latest start was a trial and no renewal came after it."""
    return p.started_trial and p.last_renewal < p.last_started
