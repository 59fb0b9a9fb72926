"""Lifecycle stages (docs/kpis.md) and the due time of a customer's next silent change.

`transition` evaluates the stage at an event time, keeps it in the profile (``stage``,
``stage_since``) and says whether it changed, so the service can store the transition with its
event time. `next_due` tells the service when, with no new event, the customer's recency-based
features or stage next change materially, for a due-time index driving the silence sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ._clock import DAY, WEEK, from_seconds
from ._derived import (
    WINDOWS,
    next_renewal,
    purchase_interval_days,
    subscription_state,
    tenure_start,
)
from ._state import CustomerProfile, Stage

__all__ = [
    "AT_RISK_BANDS",
    "COMPLAINT_STEPS_DAYS",
    "RECENCY_STEPS_DAYS",
    "RENEWAL_GRACE_DAYS",
    "LifecycleRules",
    "Transition",
    "next_due",
    "stage_at",
    "transition",
]

AT_RISK_BANDS = frozenset({"high", "critical"})
"""Churn bands that make a customer "at risk"."""

RECENCY_STEPS_DAYS = (1, 3, 7, 14, 21, 30, 45, 60, 90, 120, 180, 270, 365)
"""Days since the last activity or purchase at which a customer is due for rescoring."""

COMPLAINT_STEPS_DAYS = (2, 7, 14, 30)
"""Ages of an unresolved complaint (or open ticket: the first two) that make it due."""

RENEWAL_GRACE_DAYS = 3
"""A renewal this many days late is due again (it is now overdue, not merely due)."""


@dataclass(frozen=True, slots=True)
class LifecycleRules:
    """The settings of the lifecycle stages; the defaults are those of docs/kpis.md."""

    new_days: int = 30
    lapse_days: int = 90
    reactivated_days: int = 30
    at_risk_bands: frozenset[str] = AT_RISK_BANDS


DEFAULT_RULES = LifecycleRules()


@dataclass(frozen=True, slots=True)
class Transition:
    """The stage after `transition`, the one before, when it began, and whether it changed."""

    stage: Stage
    previous: Stage
    since: datetime
    changed: bool


def stage_at(
    profile: CustomerProfile,
    now: datetime,
    *,
    band: str | None = None,
    previous: Stage = Stage.NONE,
    since: datetime | None = None,
    rules: LifecycleRules = DEFAULT_RULES,
) -> Stage:
    """The stage at ``now``, given the previous stage and when it began (pure).

    Precedence: churned (erased, or subscription ended with no activity since), lapsed (retail,
    no activity for ``lapse_days``), at risk (band high/critical), reactivated (back from lapsed
    or churned, for ``reactivated_days``), new (tenure under ``new_days``), repeat (2+ purchases
    or a renewal), active.

    >>> from datetime import UTC
    >>> stage_at(CustomerProfile(), datetime(2026, 3, 1, tzinfo=UTC)).label
    'new'
    """
    return _stage(
        profile,
        now.timestamp(),
        band,
        previous,
        None if since is None else since.timestamp(),
        rules,
    )


def _stage(
    p: CustomerProfile,
    t: float,
    band: str | None,
    previous: Stage,
    since: float | None,
    rules: LifecycleRules,
) -> Stage:
    """`stage_at` in seconds (``since`` None: unknown)."""
    stage = _base(p, t, band, rules)
    if stage in (Stage.LAPSED, Stage.CHURNED, Stage.AT_RISK):
        return stage
    if previous in (Stage.LAPSED, Stage.CHURNED):
        return Stage.REACTIVATED
    recent = since is not None and t - since < rules.reactivated_days * DAY
    if previous is Stage.REACTIVATED and recent:
        return Stage.REACTIVATED
    return stage


def transition(
    profile: CustomerProfile,
    now: datetime,
    *,
    band: str | None = None,
    rules: LifecycleRules = DEFAULT_RULES,
) -> Transition:
    """Move ``profile`` to its stage at event time ``now``; record it in the profile.

    Call it with the partition's event-time clock (not a late event's own time), after each
    event and when `next_due` comes. ``band`` is the customer's current churn band.

    >>> from datetime import UTC
    >>> profile = CustomerProfile(first_seen=1_760_000_000, last_activity=1_760_000_000)
    >>> first = transition(profile, datetime(2025, 10, 20, tzinfo=UTC))
    >>> later = transition(profile, datetime(2026, 3, 1, tzinfo=UTC))
    >>> first.stage.label, first.changed, later.previous.label, later.stage.label
    ('new', True, 'new', 'lapsed')
    """
    previous = Stage(profile.stage)
    t = now.timestamp()
    since = profile.stage_since  # seconds: `from_seconds(s).timestamp() == s` for whole seconds
    stage = _stage(profile, t, band, previous, since if since else None, rules)
    if stage is not previous:
        profile.stage, profile.stage_since = stage, int(t)
        return Transition(stage, previous, now, True)
    return Transition(stage, previous, from_seconds(since) if since else now, False)


def _base(p: CustomerProfile, now: float, band: str | None, rules: LifecycleRules) -> Stage:
    if p.erased:
        return Stage.CHURNED
    start = tenure_start(p)
    retail = not p.subscription
    if p.subscription:
        _, _, ended = subscription_state(p, now)
        if ended:
            end = p.cancel_effective or p.cancel_at
            if p.last_activity <= end:
                return Stage.CHURNED
            retail = True  # back after the end: judged as a retail customer
    # silence counts from the last activity, or from when we first heard of the customer: a
    # sign-up date years back is no evidence that they were silent before we were watching
    last = p.last_activity or p.first_seen
    if retail and last and now - last >= rules.lapse_days * DAY:
        return Stage.LAPSED
    if band is not None and band in rules.at_risk_bands:
        return Stage.AT_RISK
    if not start or now - start < rules.new_days * DAY:
        return Stage.NEW
    if p.purchases >= 2 or p.renewals >= 1:
        return Stage.REPEAT
    return Stage.ACTIVE


def next_due(
    profile: CustomerProfile, now: datetime, *, rules: LifecycleRules = DEFAULT_RULES
) -> datetime | None:
    """The first event time after ``now`` at which, with no new event, the customer's features
    or stage change materially; None if nothing is scheduled (an erased customer).

    Material changes: days since the last activity or purchase crossing a step of
    `RECENCY_STEPS_DAYS` or the lapse window; a purchase interval overdue 1, 2, 3 times; a
    weekly purchase bucket leaving a 30/90/365-day window; the end of "new" and "reactivated";
    an unresolved complaint reaching 2, 7, 14, 30 days (an open ticket 2, 7); a renewal due,
    then overdue by `RENEWAL_GRACE_DAYS`; a cancellation taking effect; a price increase
    30/90 days old; a downgrade or offer response leaving the 90-day window.

    >>> from datetime import UTC
    >>> profile = CustomerProfile(first_seen=1_772_323_200, last_activity=1_772_323_200)
    >>> next_due(profile, datetime(2026, 3, 1, 12, tzinfo=UTC)).isoformat()
    '2026-03-02T00:00:00+00:00'
    """
    if profile.erased:
        return None
    due = _next(profile, now.timestamp(), rules)
    return from_seconds(due) if due else None


_RECENCY = tuple(d * DAY for d in RECENCY_STEPS_DAYS)  # ascending, as every series below
_COMPLAINT = tuple(d * DAY for d in COMPLAINT_STEPS_DAYS)
_TICKET = _COMPLAINT[:2]
_WINDOW_ENDS = tuple(w * DAY for w in WINDOWS)
_NONE = 2**63  # above any instant


def _first(anchor: int, offsets: tuple[int, ...], t: float, best: int) -> int:
    """The smaller of ``best`` and the first ``anchor + offset`` after ``t`` (offsets
    ascending, so the first after ``t`` is the series' smallest after ``t``).

    >>> _first(100, (1, 5, 9), 104.5, _NONE), _first(100, (1, 5, 9), 104.5, 102)
    (105, 102)
    """
    for offset in offsets:
        when = anchor + offset
        if when > t:
            return when if when < best else best
    return best


def _next(p: CustomerProfile, t: float, rules: LifecycleRules) -> int:
    """The earliest scheduled change after ``t`` (0: none): the smallest of the candidate
    times below that lies after ``t``, each ascending series cut at its first such time
    instead of listing every candidate (this runs at every score)."""
    best = _NONE
    lapse = rules.lapse_days * DAY
    for anchor in (p.last_activity or p.first_seen, p.last_tx):
        if anchor:
            best = _first(anchor, _RECENCY, t, best)
            if t < anchor + lapse < best:
                best = anchor + lapse
    interval = purchase_interval_days(p)
    if interval > 0:
        steps = (round(interval * DAY), round(2 * interval * DAY), round(3 * interval * DAY))
        best = _first(p.last_tx, steps, t, best)
    for week in p.tx_weeks:
        best = _first((week + 1) * WEEK, _WINDOW_ENDS, t, best)
    singles: list[int] = []
    start = tenure_start(p)
    if start:
        singles.append(start + rules.new_days * DAY)
    if p.stage == Stage.REACTIVATED:
        singles.append(p.stage_since + rules.reactivated_days * DAY)
    for entry in p.complaints.values():
        if entry[1] > entry[2]:  # open (`open_entries`)
            best = _first(entry[0], _COMPLAINT, t, best)
    for entry in p.tickets.values():
        if entry[1] > entry[2]:
            best = _first(entry[0], _TICKET, t, best)
    renewal = next_renewal(p)
    if renewal:
        best = _first(renewal, (0, RENEWAL_GRACE_DAYS * DAY), t, best)
    if p.cancel_at:
        singles.append(p.cancel_effective or p.cancel_at)
    if p.increase_at:
        best = _first(p.increase_at, (30 * DAY, 90 * DAY), t, best)
    for at in (p.change_at, p.offer_at):
        if at:
            singles.append(at + 90 * DAY)
    for when in singles:
        if t < when < best:
            best = when
    return 0 if best == _NONE else best
