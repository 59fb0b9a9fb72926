"""Live per-customer profiles: state, features, reasons in words, lifecycle and RFM labels.

The scoring service keeps one `CustomerProfile` per customer (at most 1 KiB as bytes),
folds every event into it with `apply` (in event time: late and duplicate events are handled),
reads the model's inputs with `features`, explains a score with `top_reasons`, moves the
lifecycle stage with `transition` and schedules the silence sweep with `next_due`.
docs/profile.md documents the fields, features and guarantees.

>>> from datetime import UTC, datetime
>>> from churnwatch.events import EXAMPLES, EventType, parse_event
>>> now = datetime(2026, 3, 2, tzinfo=UTC)
>>> profile = CustomerProfile()
>>> for event_type in (EventType.PAYMENT_FAILED, EventType.COMPLAINT, EventType.NPS):
...     _ = apply(profile, parse_event(EXAMPLES[event_type], now=now))
>>> values = features(profile, now)
>>> values["failed_payments_consecutive"], values["complaints_unresolved"], values["nps_score"]
(1.0, 1.0, 4.0)
>>> describe("complaints_unresolved", profile, now)
'1 unresolved complaint in the last day'
>>> transition(profile, now).stage.label
'new'
"""

from ._activities import ActivityVocabulary
from ._apply import apply, event_key
from ._clock import from_seconds, to_seconds
from ._codec import MAX_BYTES, ProfileDecodeError
from ._derived import not_renewed
from ._features import FEATURE_NAMES, contact_permissions, feature_vector, features
from ._lifecycle import (
    AT_RISK_BANDS,
    LifecycleRules,
    Transition,
    next_due,
    stage_at,
    transition,
)
from ._reasons import Reason, describe, top_reasons
from ._rfm import (
    RfmCuts,
    RfmScores,
    RfmSegment,
    RfmValues,
    rfm_scores,
    rfm_segment,
    rfm_values,
)
from ._state import CustomerProfile, Stage

__all__ = [
    "AT_RISK_BANDS",
    "FEATURE_NAMES",
    "MAX_BYTES",
    "ActivityVocabulary",
    "CustomerProfile",
    "LifecycleRules",
    "ProfileDecodeError",
    "Reason",
    "RfmCuts",
    "RfmScores",
    "RfmSegment",
    "RfmValues",
    "Stage",
    "Transition",
    "apply",
    "contact_permissions",
    "describe",
    "event_key",
    "feature_vector",
    "features",
    "from_seconds",
    "next_due",
    "not_renewed",
    "rfm_scores",
    "rfm_segment",
    "rfm_values",
    "stage_at",
    "to_seconds",
    "top_reasons",
    "transition",
]
