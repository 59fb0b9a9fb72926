"""Pure helpers of the learner: snapshot rows → `Snapshot`, outcomes from the stored profile,
one decision per snapshot, and model objects as JSON.

No I/O here; `churnwatch_scoring.learner.store` reads the rows and `service` wires it.

**Where the outcome comes from.** The scoring worker keeps no per-snapshot outcome; the learner
rebuilds it when a snapshot is due from what PostgreSQL holds about the customer:

- subscription: the profile's latest end record (a cancellation or a ``subscription_expired``)
  if it was sent after the snapshot, as an outcome at the subscription's **end** (its
  ``effective_at``, else the event's time; ``EXPIRED`` when it was an expiry). An end sent after
  the snapshot but effective at or before it (an expiry the billing system reported late) means
  the customer was already gone at the snapshot: never labelled. It is the *latest* record, not
  the first: a customer who cancelled inside the horizon, resubscribed and cancelled again after
  it is labelled by the later one (rare; documented);
- retail: the first activity after the snapshot is bounded from above by (a) the customer's
  later snapshots (each one's ``taken_at − activity_recency_days`` is its last activity, and the
  earliest such time after ``t`` is at most one day past the true first return, since the worker
  snapshots every scored day) and (b) the profile's ``last_activity``. The earliest of the two
  is used: exact when the return is seen by a later snapshot or is the customer's last activity;
- retention actions: every ``treatments`` row of the customer.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from churnwatch.model import (
    ChallengerPromoted,
    CustomerKind,
    DriftDetected,
    FellBackToPrior,
    Label,
    LabelResolver,
    ModelRecord,
    OutcomeEvent,
    OutcomeKind,
    QualityReport,
    Snapshot,
    SnapshotOutcome,
    SwitchedToLearned,
    VocabularyChanged,
)
from churnwatch.profile import CustomerProfile, from_seconds, not_renewed

__all__ = [
    "Deferred",
    "Resolved",
    "Skipped",
    "decide",
    "jsonable",
    "outcome_events",
    "quality_json",
    "record_kind",
    "record_row",
    "snapshot_of",
]


@dataclass(frozen=True, slots=True)
class Resolved:
    """The label is certain at this watermark: learn it."""

    label: Label


@dataclass(frozen=True, slots=True)
class Deferred:
    """Not yet certain (e.g. a retail customer came back): re-index the snapshot at ``due_at``."""

    due_at: datetime


@dataclass(frozen=True, slots=True)
class Skipped:
    """Never labelled: the customer was not live at the snapshot, is erased, or is unknown."""

    why: str


Decision = Resolved | Deferred | Skipped


def snapshot_of(
    customer_id: str, taken_at: datetime, business_model: str, features: Mapping[str, Any]
) -> Snapshot:
    """A `Snapshot` from a ``label_snapshots`` row.

    Retail: the last activity is ``taken_at − activity_recency_days``. Subscription: live when
    ``subscription_active`` and no cancellation pending (a customer who already cancelled has
    decided; a later cancellation event would not be their churn).

    >>> from datetime import UTC, timedelta
    >>> t = datetime(2024, 5, 1, tzinfo=UTC)
    >>> s = snapshot_of("C-1", t, "retail", {"activity_recency_days": 2.5000000001})
    >>> s.kind.value, (t - s.last_activity_at).total_seconds() / 3600
    ('retail', 60.0)
    >>> snapshot_of("C-2", t, "subscription", {"subscription_active": 1.0}).active
    True
    """
    values = {k: float(v) for k, v in features.items() if v is not None}
    kind = CustomerKind(business_model)
    if kind is CustomerKind.RETAIL:
        recency = values.get("activity_recency_days", math.nan)
        last = None
        if math.isfinite(recency):  # profile instants are whole seconds: undo the float error
            last = datetime.fromtimestamp(round(taken_at.timestamp() - recency * 86400), UTC)
        return Snapshot(customer_id, taken_at, kind, values, last_activity_at=last)
    active = values.get("subscription_active", 0.0) >= 0.5
    pending = values.get("cancellation_pending", 0.0) >= 0.5
    return Snapshot(customer_id, taken_at, kind, values, active=active and not pending)


def outcome_events(
    snapshot: Snapshot,
    profile: CustomerProfile,
    *,
    returned_at: datetime | None,
    actions: Iterable[datetime],
) -> list[OutcomeEvent]:
    """The outcome events the resolver needs, rebuilt from the stored state (module docstring).

    >>> from datetime import UTC, timedelta
    >>> from churnwatch.profile import to_seconds
    >>> t = datetime(2024, 5, 1, tzinfo=UTC)
    >>> p = CustomerProfile()
    >>> p.subscription, p.cancel_at = True, to_seconds(t + timedelta(days=3))
    >>> snap = snapshot_of("C-1", t, "subscription", {"subscription_active": 1.0})
    >>> [e.kind.value for e in outcome_events(snap, p, returned_at=None, actions=[t])]
    ['cancelled', 'retention_action']
    """
    t = snapshot.taken_at
    events: list[OutcomeEvent] = []
    if snapshot.kind is CustomerKind.SUBSCRIPTION:
        if profile.cancel_at and from_seconds(profile.cancel_at) > t:
            end = from_seconds(profile.cancel_effective or profile.cancel_at)
            kind = OutcomeKind.EXPIRED if not_renewed(profile) else OutcomeKind.CANCELLED
            events.append(OutcomeEvent(kind, end))
    else:
        if returned_at is not None and returned_at > t:
            events.append(OutcomeEvent(OutcomeKind.ACTIVITY, returned_at))
        if profile.last_activity and from_seconds(profile.last_activity) > t:
            events.append(OutcomeEvent(OutcomeKind.ACTIVITY, from_seconds(profile.last_activity)))
    events += [OutcomeEvent(OutcomeKind.RETENTION_ACTION, at) for at in actions]
    return events


def decide(
    resolver: LabelResolver,
    snapshot: Snapshot,
    profile: CustomerProfile | None,
    watermark: datetime,
    *,
    returned_at: datetime | None = None,
    actions: Iterable[datetime] = (),
) -> Decision:
    """What to do with one due snapshot at ``watermark``.

    >>> from datetime import UTC, timedelta
    >>> t = datetime(2024, 5, 1, tzinfo=UTC)
    >>> snap = snapshot_of("C-1", t, "subscription", {"subscription_active": 1.0})
    >>> decide(LabelResolver(), snap, CustomerProfile(), t + timedelta(days=30)).label.churned
    False
    >>> decide(LabelResolver(), snap, None, t + timedelta(days=30))
    Skipped(why='no profile')
    """
    if profile is None:
        return Skipped("no profile")
    if profile.erased:
        return Skipped("erased")
    if not resolver.eligible(snapshot) or _ended_before(snapshot, profile):
        return Skipped("not live at the snapshot")
    events = outcome_events(snapshot, profile, returned_at=returned_at, actions=actions)
    label = resolver.resolve(snapshot, events, watermark)
    if label is not None:
        return Resolved(label)
    outcome = SnapshotOutcome()
    for event in events:
        outcome = resolver.observe(snapshot, outcome, event)
    return Deferred(resolver.due_at(snapshot, outcome))


def _ended_before(snapshot: Snapshot, profile: CustomerProfile) -> bool:
    """The end was sent after the snapshot but took effect at or before it (reported late)."""
    if snapshot.kind is not CustomerKind.SUBSCRIPTION or not profile.cancel_at:
        return False
    t = snapshot.taken_at.timestamp()
    return profile.cancel_at > t >= (profile.cancel_effective or profile.cancel_at)


_KINDS: dict[type, str] = {
    SwitchedToLearned: "switched_to_learned",
    FellBackToPrior: "fell_back_to_prior",
    ChallengerPromoted: "promoted",
    DriftDetected: "drift",
    VocabularyChanged: "vocabulary_changed",
}


def record_kind(record: ModelRecord) -> str:
    """The ``model_records.kind`` of a record: switched_to_learned | fell_back_to_prior |
    promoted | drift | vocabulary_changed."""
    return _KINDS[type(record)]


def record_row(record: ModelRecord) -> dict[str, Any]:
    """A ``model_records`` row (``kind``, ``at``, ``detail``) for one record."""
    return {"kind": record_kind(record), "at": record.at, "detail": jsonable(record)}


def quality_json(report: QualityReport) -> dict[str, Any]:
    """The ``model_checkpoints.quality`` document: the `QualityReport`, NaN as null."""
    doc = jsonable(report)
    assert isinstance(doc, dict)
    return doc


def jsonable(value: Any) -> Any:
    """Dataclasses, enums, datetimes, tuples and floats → plain JSON values (NaN/inf → None).

    >>> from datetime import UTC, timedelta
    >>> jsonable({"at": datetime(2024, 1, 1, tzinfo=UTC), "x": (1.5, float("nan"))})
    {'at': '2024-01-01T00:00:00+00:00', 'x': [1.5, None]}
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return value
