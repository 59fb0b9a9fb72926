"""Delayed labels: which feature snapshots to keep, and when their outcome is known.

The model learns "did this customer churn within the horizon H after this snapshot?", and the
answer arrives late. The service keeps snapshots (`SnapshotPolicy`: at most one per customer per
UTC day, only moving forward), folds the customer's later outcome events into each pending
snapshot (`LabelResolver.observe`: earliest times only, so any order and any duplicate give the
same state), indexes it by `LabelResolver.due_at`, and calls `LabelResolver.resolve` as the
event-time watermark passes. A watermark ``w`` promises that every event with time ``<= w`` has
been seen. For a snapshot taken at ``t``:

- **subscription**: label 1 when the subscription **ends** at ``c`` with ``t < c <= t + H``:
  ``cancelled`` (a cancellation, at its ``effective_at``, else its ``occurred_at``) or
  ``expired`` (``subscription_expired``, no renewal, at its ``effective_at``); else label 0
  (``stayed``). The end, not the decision: a monthly plan cancelled on day 3 of its period
  churns when the period ends, ~27 days later (a customer with a cancellation pending is not
  live, so their later snapshots are not labelled at all).
- **retail**: with ``a`` the last activity at or before ``t`` and ``W`` the lapse window, the
  customer lapses at ``L = a + W`` unless active in ``(t, L]``. Label 1 (``lapsed``) when
  ``L <= t + H`` and no activity in ``(t, L]``; else 0. With ``W >= H`` (required) a later
  activity can only push the lapse past the horizon.
- **both outcomes are known at ``t + H``, never earlier**: `resolve` returns ``None`` for every
  ``w < t + H`` and `due_at` is ``t + H`` whatever was observed. Learning a churn as soon as it
  happens but a "stayed" only at ``t + H`` makes the training stream's class mix depend on time
  (recent snapshots arrive as churners only), which flipped tenure-like weights and inflated the
  prequential AUC (issue 13); the label keeps the churn's own time in ``churned_at``.

Only snapshots of live customers are labelled (`LabelResolver.eligible`): an active subscriber,
a retail customer not yet lapsed. **Treatment**: a label is ``treated`` when the customer got a
retention action in ``[t - lookback, outcome]`` (the churn's time, or ``t + H``; lookback
defaults to the horizon: a save call the day before the snapshot shapes the next 30 days as
much as one the day after). The model's `TreatmentPolicy` decides what to do with treated
labels; the label only marks them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

__all__ = [
    "CustomerKind",
    "Label",
    "LabelReason",
    "LabelResolver",
    "OutcomeEvent",
    "OutcomeKind",
    "Snapshot",
    "SnapshotOutcome",
    "SnapshotPolicy",
]


class CustomerKind(StrEnum):
    """Contractual (churn = the subscription ends) or not (churn = lapse)."""

    SUBSCRIPTION = "subscription"
    RETAIL = "retail"


class OutcomeKind(StrEnum):
    """Events after a snapshot that decide or mark its label."""

    ACTIVITY = "activity"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    """the subscription ended without renewal (``at``: its effective end)"""
    RETENTION_ACTION = "retention_action"


class LabelReason(StrEnum):
    """Why a label is what it is."""

    CANCELLED = "cancelled"
    EXPIRED = "expired"
    """the subscription ended without renewal"""
    LAPSED = "lapsed"
    STAYED = "stayed"


@dataclass(frozen=True, slots=True)
class OutcomeEvent:
    """An outcome-relevant event of the snapshot's customer, in event time; for ``CANCELLED``
    and ``EXPIRED``, ``at`` is when the subscription ends (the event's ``effective_at``, else its
    ``occurred_at``), not when it was sent."""

    kind: OutcomeKind
    at: datetime


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A customer's features at ``taken_at``, kept until its label is known.

    ``last_activity_at`` (retail) is the customer's last activity at or before ``taken_at``;
    ``active`` (subscription) whether they were subscribed at ``taken_at``.
    """

    customer_id: str
    taken_at: datetime
    kind: CustomerKind
    features: Mapping[str, float] = field(hash=False)
    last_activity_at: datetime | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class SnapshotOutcome:
    """What is known after a snapshot: earliest activity and subscription end after
    ``taken_at`` (``end_expired``: that end was an expiry; at a tie the cancellation wins),
    earliest retention action from ``taken_at - lookback`` on."""

    first_activity: datetime | None = None
    first_cancel: datetime | None = None
    first_action: datetime | None = None
    end_expired: bool = False


@dataclass(frozen=True, slots=True)
class Label:
    """A snapshot's resolved outcome, learned at ``known_at`` (always ``taken_at + H``);
    ``churned_at`` is when the cancellation, expiry or lapse happened (None if stayed)."""

    customer_id: str
    taken_at: datetime
    churned: bool
    reason: LabelReason
    known_at: datetime
    treated: bool
    churned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SnapshotPolicy:
    """Keep at most one snapshot per customer per UTC day, and only for a later day than the
    last one kept (a late event for an earlier day takes none), so the per-customer state is
    one date.

    ``min_gap_days`` samples: a snapshot only ``min_gap_days`` or more days after the last one
    kept (1: every scored day). Fewer labels per customer, the stored snapshots bounded by
    horizon / gap per customer; its measured effect on held-out AUC is in docs/scaling.md.

    >>> policy = SnapshotPolicy()
    >>> t = datetime(2024, 3, 1, 9, tzinfo=UTC)
    >>> policy.admits(None, t), policy.admits(policy.day(t), t + timedelta(hours=3))
    (True, False)
    >>> policy.admits(policy.day(t), t + timedelta(days=1))
    True
    >>> weekly = SnapshotPolicy(min_gap_days=7)
    >>> weekly.admits(weekly.day(t), t + timedelta(days=6)), weekly.admits(None, t)
    (False, True)
    >>> weekly.admits(weekly.day(t), t + timedelta(days=7))
    True
    """

    min_gap_days: int = 1

    def __post_init__(self) -> None:
        if self.min_gap_days < 1:
            raise ValueError(f"min_gap_days must be at least 1, got {self.min_gap_days}")

    def day(self, at: datetime) -> date:
        """The UTC day of an aware timestamp."""
        return _aware(at).astimezone(UTC).date()

    def admits(self, last_day: date | None, at: datetime) -> bool:
        """Whether a snapshot at ``at`` is kept, given the day of the customer's last one."""
        return last_day is None or (self.day(at) - last_day).days >= self.min_gap_days


@dataclass(frozen=True, slots=True)
class LabelResolver:
    """Resolves snapshots into labels as the event-time watermark advances.

    Examples
    --------
    >>> t = datetime(2024, 3, 1, tzinfo=UTC)
    >>> snap = Snapshot("C-1", t, CustomerKind.SUBSCRIPTION, {"nps": 3.0})
    >>> resolver = LabelResolver()
    >>> events = [OutcomeEvent(OutcomeKind.CANCELLED, t + timedelta(days=12))]
    >>> resolver.resolve(snap, events, watermark=t + timedelta(days=29)) is None
    True
    >>> label = resolver.resolve(snap, events, watermark=t + timedelta(days=30))
    >>> label.churned, label.reason, label.treated, (label.churned_at - t).days
    (True, <LabelReason.CANCELLED: 'cancelled'>, False, 12)
    """

    horizon: timedelta = timedelta(days=30)
    lapse_window: timedelta = timedelta(days=90)
    treatment_lookback: timedelta = timedelta(days=30)

    @classmethod
    def for_horizon(
        cls, horizon_days: int, *, lapse_days: int = 90, lookback_days: int | None = None
    ) -> LabelResolver:
        """The resolver of a horizon in days (the one setting every part reads, docs/model.md);
        the treatment look-back defaults to the horizon.

        >>> LabelResolver.for_horizon(14).treatment_lookback.days
        14
        """
        lookback = horizon_days if lookback_days is None else lookback_days
        return cls(timedelta(days=horizon_days), timedelta(days=lapse_days), timedelta(lookback))

    def __post_init__(self) -> None:
        if self.horizon <= timedelta(0) or self.treatment_lookback < timedelta(0):
            raise ValueError("need horizon > 0 and treatment_lookback >= 0")
        if self.lapse_window < self.horizon:
            raise ValueError(
                "lapse_window must be >= horizon: with a shorter lapse window a customer could "
                "lapse, return and lapse again within one horizon, which earliest times can't see"
            )

    def eligible(self, snapshot: Snapshot) -> bool:
        """Whether a snapshot can get a label: the customer is live at ``taken_at``.

        >>> t = datetime(2024, 6, 1, tzinfo=UTC)
        >>> quiet = Snapshot("C-2", t, CustomerKind.RETAIL, {}, last_activity_at=t - timedelta(120))
        >>> LabelResolver().eligible(quiet)
        False
        """
        if snapshot.kind is CustomerKind.SUBSCRIPTION:
            return snapshot.active
        last = snapshot.last_activity_at
        return last is not None and last + self.lapse_window > snapshot.taken_at

    def observe(
        self, snapshot: Snapshot, outcome: SnapshotOutcome, event: OutcomeEvent
    ) -> SnapshotOutcome:
        """Fold one event into a snapshot's outcome (order-free, duplicate-free).

        >>> t = datetime(2024, 3, 1, tzinfo=UTC)
        >>> snap = Snapshot("C-1", t, CustomerKind.RETAIL, {}, last_activity_at=t)
        >>> o = LabelResolver().observe(snap, SnapshotOutcome(),
        ...                             OutcomeEvent(OutcomeKind.ACTIVITY, t + timedelta(days=2)))
        >>> o.first_activity == t + timedelta(days=2)
        True
        """
        at, t = _aware(event.at), snapshot.taken_at
        if event.kind is OutcomeKind.RETENTION_ACTION:
            if at >= t - self.treatment_lookback:
                return replace(outcome, first_action=_earliest(outcome.first_action, at))
        elif at > t:
            if event.kind is OutcomeKind.ACTIVITY:
                return replace(outcome, first_activity=_earliest(outcome.first_activity, at))
            # a cancellation or an expiry: the subscription's end, whichever comes first
            current, expired = outcome.first_cancel, event.kind is OutcomeKind.EXPIRED
            if current is None or at < current or (at == current and not expired):
                return replace(outcome, first_cancel=at, end_expired=expired)
        return outcome

    def due_at(self, snapshot: Snapshot, outcome: SnapshotOutcome) -> datetime:
        """The watermark at which the label is learned: ``taken_at + horizon`` for both outcomes
        (module docstring), so no observed event moves it and no re-indexing is needed.

        >>> t = datetime(2024, 3, 1, tzinfo=UTC)
        >>> snap = Snapshot("C-1", t, CustomerKind.SUBSCRIPTION, {})
        >>> (LabelResolver().due_at(snap, SnapshotOutcome(first_cancel=t + timedelta(1))) - t).days
        30
        """
        self._decide(snapshot, outcome)  # validates eligibility
        return _aware(snapshot.taken_at) + self.horizon

    def resolve(
        self,
        snapshot: Snapshot,
        outcome: SnapshotOutcome | Iterable[OutcomeEvent],
        watermark: datetime,
    ) -> Label | None:
        """The snapshot's label if the watermark makes it certain, else ``None``.

        ``outcome`` is the folded state or the customer's outcome events (any order).
        `resolve` and `due_at` raise ``ValueError`` for an ineligible snapshot (it should not
        have been kept).
        """
        if not isinstance(outcome, SnapshotOutcome):
            state = SnapshotOutcome()
            for event in outcome:
                state = self.observe(snapshot, state, event)
            outcome = state
        churned_at, reason = self._decide(snapshot, outcome)
        known_at = _aware(snapshot.taken_at) + self.horizon
        if _aware(watermark) < known_at:
            return None
        action = outcome.first_action
        return Label(
            customer_id=snapshot.customer_id,
            taken_at=snapshot.taken_at,
            churned=reason is not LabelReason.STAYED,
            reason=reason,
            known_at=known_at,
            # an action after the churn did not shape it: the window ends at the outcome
            treated=action is not None and action <= churned_at,
            churned_at=None if reason is LabelReason.STAYED else churned_at,
        )

    def _decide(self, snapshot: Snapshot, outcome: SnapshotOutcome) -> tuple[datetime, LabelReason]:
        if not self.eligible(snapshot):
            raise ValueError(f"snapshot of {snapshot.customer_id} at {snapshot.taken_at}: not live")
        t = _aware(snapshot.taken_at)
        end = t + self.horizon
        if snapshot.kind is CustomerKind.SUBSCRIPTION:
            cancel = outcome.first_cancel
            if cancel is not None and cancel <= end:
                reason = LabelReason.EXPIRED if outcome.end_expired else LabelReason.CANCELLED
                return cancel, reason
            return end, LabelReason.STAYED
        assert snapshot.last_activity_at is not None  # eligible() checked it
        lapse = _aware(snapshot.last_activity_at) + self.lapse_window
        came_back = outcome.first_activity is not None and outcome.first_activity <= lapse
        if lapse <= end and not came_back:
            return lapse, LabelReason.LAPSED
        return end, LabelReason.STAYED


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"event times must be timezone-aware, got {at!r}")
    return at


def _earliest(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at < current else current
