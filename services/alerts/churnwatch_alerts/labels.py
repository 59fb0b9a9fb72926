"""The uplift job's pure rules: when an exposed customer counts as churned, and when that
label is final (no I/O; the job is `uplift`, its SQL `store.uplift`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta  # noqa: F401  (UTC: the doctests)

from churnwatch.profile import CustomerProfile

__all__ = ["churned_by", "churned_from_stage", "resolvable_at"]


def churned_by(profile: CustomerProfile, horizon_end: datetime) -> bool:
    """Whether the customer had left by ``horizon_end``, judged from its profile at or after
    `resolvable_at` (the label is final only then).

    - erased by then;
    - a subscriber who *decided* to cancel by then (the cancellation event, not the later end of
      the paid period: a save works on the decision) and did not start again, with no activity
      after the end of the subscription;
    - a retail customer (or a subscriber back after the end) whose last activity was before
      ``horizon_end`` and who then stayed silent for the lapse window — the retail churn of
      kpis.md, dated at the last activity. Judging it needs the lapse window's hindsight
      (`resolvable_at`); with the lapse point inside the horizon instead, only customers
      already silent for the lapse window less the horizon at exposure could ever count as
      churned, and every retail effect would be measured as about zero.

    >>> end = datetime(2026, 3, 31, tzinfo=UTC)
    >>> t = lambda days: int((end - timedelta(days=days)).timestamp())
    >>> churned_by(CustomerProfile(last_activity=t(10), first_seen=t(400)), end)
    True
    >>> churned_by(CustomerProfile(last_activity=t(-10), first_seen=t(400)), end)
    False
    >>> sub = CustomerProfile(subscription=True, sub_active_at=t(60), cancel_at=t(5),
    ...                       cancel_effective=t(-20), last_activity=t(6), first_seen=t(60))
    >>> churned_by(sub, end), churned_by(sub, end - timedelta(days=10))
    (True, False)
    """
    return _outcome(profile, horizon_end)[0]


def _outcome(p: CustomerProfile, horizon_end: datetime) -> tuple[bool, bool]:
    """(churned by ``horizon_end``, judged as retail: the lapse window must follow)."""
    end = horizon_end.timestamp()
    if p.erased:
        return (not p.erased_at or p.erased_at <= end), False
    last = p.last_activity or p.first_seen
    if p.subscription:
        cancelled = p.cancel_at > 0 and p.cancel_at >= p.sub_active_at
        if not cancelled or p.cancel_at > end:
            return False, False
        if last <= max(p.cancel_effective, p.cancel_at):
            return True, False
        # back after the end: judged as retail from then on
    return bool(last) and last <= end, True


def resolvable_at(
    profile: CustomerProfile, horizon_end: datetime, *, lapse_days: int = 90
) -> datetime:
    """When `churned_by` is final: at the horizon's end, or ``lapse_days`` later for a
    customer judged as retail (the silence after the last activity must be seen).

    >>> end = datetime(2026, 3, 31, tzinfo=UTC)
    >>> resolvable_at(CustomerProfile(subscription=True, sub_active_at=1), end) == end
    True
    >>> resolvable_at(CustomerProfile(last_activity=1), end).date().isoformat()
    '2026-06-29'
    """
    retail = _outcome(profile, horizon_end)[1]
    return horizon_end + timedelta(days=lapse_days) if retail else horizon_end


def churned_from_stage(stage: str | None) -> bool | None:
    """The fallback without a profile: the last score's lifecycle stage (None: unknown).

    >>> churned_from_stage("lapsed"), churned_from_stage("active"), churned_from_stage(None)
    (True, False, None)
    """
    if stage is None:
        return None
    return stage in ("churned", "lapsed")
