"""What a playbook can look at: the score record plus facts derived from the customer profile.

`Facts` is built once per score (`churnwatch.messages.ScoreMessage`) by `facts_from_score`;
conditions read the fields listed in `FIELDS` (and nothing else), triggers also read the episode
anchors (``*_at``), which name the episode (the complaint, the run of failed payments, …) so
that one episode gives one action.

The vocabularies below repeat `churnwatch.model.Band`, `churnwatch.value.Tier`,
`churnwatch.profile.Stage` and `RfmSegment` as plain strings, so that importing the alerts
domain does not import the learner (river) or scipy; a test keeps them equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from churnwatch.messages import ScoreMessage, trusted

if TYPE_CHECKING:
    from churnwatch.profile import CustomerProfile

__all__ = [
    "BANDS",
    "BUSINESS_MODELS",
    "FIELDS",
    "RFM_SEGMENTS",
    "STAGES",
    "TIERS",
    "Facts",
    "FieldSpec",
    "facts_from_score",
]

BANDS: tuple[str, ...] = ("low", "medium", "high", "critical")
"""Risk bands, lowest first (ordered: ``band >= high`` is allowed)."""

TIERS: tuple[str, ...] = ("bronze", "silver", "gold", "platinum")
"""Value tiers, least valuable first (ordered: ``tier >= gold`` is allowed)."""

STAGES: tuple[str, ...] = (
    "none", "new", "active", "repeat", "at_risk", "lapsed", "churned", "reactivated",
)  # fmt: skip
RFM_SEGMENTS: tuple[str, ...] = (
    "champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
    "about_to_sleep", "at_risk", "cannot_lose_them", "hibernating", "lost",
)  # fmt: skip
BUSINESS_MODELS: tuple[str, ...] = ("retail", "subscription")

_HOUR = 3600.0
_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """The type of a condition field: a number, a flag, or one of ``choices`` (``ordered``:
    comparisons ``lt``/``ge``… follow the order of ``choices``)."""

    kind: Literal["number", "bool", "choice"]
    choices: tuple[str, ...] = ()
    ordered: bool = False
    doc: str = ""


FIELDS: dict[str, FieldSpec] = {
    "band": FieldSpec("choice", BANDS, True, "risk band of this score"),
    "previous_band": FieldSpec("choice", BANDS, True, "band of the previous score (may be null)"),
    "tier": FieldSpec("choice", TIERS, True, "value tier"),
    "churn_probability": FieldSpec("number", doc="calibrated P(churn within the horizon)"),
    "value_at_risk": FieldSpec("number", doc="churn probability × value (scoring's basis)"),
    "clv": FieldSpec("number", doc="customer lifetime value (risk-discounted)"),
    "value_if_retained": FieldSpec("number", doc="value over the horizon if kept (may be null)"),
    "lifecycle_stage": FieldSpec("choice", STAGES, doc="lifecycle stage"),
    "rfm_segment": FieldSpec("choice", RFM_SEGMENTS, doc="RFM segment (may be null)"),
    "business_model": FieldSpec("choice", BUSINESS_MODELS, doc="retail or subscription"),
    "cause": FieldSpec("choice", ("event", "silence"), doc="what caused the rescore"),
    "unresolved_complaints": FieldSpec("number", doc="open complaints (≤ 5)"),
    "unresolved_complaint_age_hours": FieldSpec("number", doc="age of the oldest open one"),
    "complaint_escalated": FieldSpec("bool", doc="an open complaint was escalated"),
    "consecutive_failed_payments": FieldSpec("number", doc="failures since the last success"),
    "purchase_count": FieldSpec("number", doc="retail orders, lifetime"),
    "days_since_first_purchase": FieldSpec("number", doc="days since the first transaction"),
    "days_since_last_purchase": FieldSpec("number", doc="days since the last transaction"),
    "days_since_last_activity": FieldSpec("number", doc="days since the last activity"),
}
"""Every field a condition may name. Profile-derived ones are null without a profile (or, for
the ``days_since_*`` and complaint age, when there is nothing to measure)."""


class Facts(BaseModel):
    """One score record and what the profile adds, as of the score's event time.

    >>> f = Facts(customer_id="C-1", event_time="2026-03-01T00:00:00Z", churn_probability=0.4,
    ...           band="high", tier="gold", clv=300.0, value_at_risk=120.0)
    >>> f.band, f.event_time.year, f.purchase_count
    ('high', 2026, None)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    event_time: datetime
    churn_probability: float = Field(ge=0, le=1)
    band: Literal["low", "medium", "high", "critical"]
    previous_band: Literal["low", "medium", "high", "critical"] | None = None
    tier: Literal["bronze", "silver", "gold", "platinum"]
    clv: float
    value_at_risk: float
    value_if_retained: float | None = None
    lifecycle_stage: str = "none"
    rfm_segment: str | None = None
    business_model: Literal["retail", "subscription"] = "retail"
    cause: Literal["event", "silence"] = "event"
    cause_event_id: str | None = None
    model_version: str = ""
    reasons: tuple[str, ...] = ()
    """The score's reasons in words (talking points for a save call)."""
    # profile-derived (None without a profile)
    unresolved_complaints: int | None = None
    unresolved_complaint_age_hours: float | None = None
    complaint_escalated: bool | None = None
    consecutive_failed_payments: int | None = None
    purchase_count: int | None = None
    days_since_first_purchase: float | None = None
    days_since_last_purchase: float | None = None
    days_since_last_activity: float | None = None
    # episode anchors, read by triggers
    oldest_open_complaint_at: datetime | None = None
    first_failed_payment_at: datetime | None = None
    first_purchase_at: datetime | None = None
    last_activity_at: datetime | None = None

    def value(self, name: str) -> Any:
        """The value of condition field ``name`` (an enum-like field as its string)."""
        return getattr(self, name)


def _at(seconds: int) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def _since(now: float, seconds: int, unit: float) -> float | None:
    return max(now - seconds, 0.0) / unit if seconds else None


def profile_facts(profile: CustomerProfile, now: datetime) -> dict[str, Any]:
    """The profile-derived `Facts` fields at ``now`` (see docs/profile.md for the state)."""
    p, t = profile, now.timestamp()
    # a complaint entry is [first opened, last opened/escalated, last resolved, severity, esc.];
    # it is open when (re)opened after its last resolution (as in churnwatch.profile)
    open_complaints = [e for e in p.complaints.values() if e[1] > e[2]]
    oldest = min((e[0] for e in open_complaints), default=0)
    return {
        "unresolved_complaints": len(open_complaints),
        "unresolved_complaint_age_hours": _since(t, oldest, _HOUR),
        "complaint_escalated": any(e[4] for e in open_complaints),
        "consecutive_failed_payments": len(p.failures),
        "purchase_count": p.purchases,
        "days_since_first_purchase": _since(t, p.first_tx, _DAY),
        "days_since_last_purchase": _since(t, p.last_tx, _DAY),
        "days_since_last_activity": _since(t, p.last_activity, _DAY),
        "oldest_open_complaint_at": _at(oldest),
        "first_failed_payment_at": _at(p.failures[0]) if p.failures else None,
        "first_purchase_at": _at(p.first_tx),
        "last_activity_at": _at(p.last_activity),
    }


_FROM_SCORE = tuple(
    k for k in ScoreMessage.model_fields if k in Facts.model_fields and k != "reasons"
)
"""The `Facts` fields a score gives as they are (reasons aside: facts keep their words)."""
_DEFAULTS: dict[str, Any] = {
    name: f.get_default(call_default_factory=True) for name, f in Facts.model_fields.items()
}
"""Each field's default (required ones, all from the score, are overwritten)."""


def facts_from_score(
    score: ScoreMessage | Mapping[str, Any],
    profile: CustomerProfile | None = None,
    *,
    previous_band: str | None = None,
) -> Facts:
    """`Facts` from a ``cw.scores`` message (or a dict, validated as one) and, if known, the
    customer's profile, evaluated at the score's event time.

    The message was validated by `churnwatch.messages.decode_score` against the same rules
    `Facts` has, so the facts are assembled without validating again (the consumer's hot path).

    >>> from churnwatch.profile import CustomerProfile
    >>> score = {"customer_id": "C-7", "churn_probability": 0.7, "band": "critical",
    ...          "reasons": [{"feature": "nps_score", "text": "NPS 2", "weight": 0.4}],
    ...          "clv": 900.0, "tier": "platinum", "value_at_risk": 630.0,
    ...          "event_time": "2026-03-03T00:00:00Z", "cause": "event"}
    >>> profile = CustomerProfile(purchases=1, tx_count=1, first_tx=1772323200,
    ...                           last_tx=1772323200, failures=[1772409600])
    >>> f = facts_from_score(score, profile, previous_band="medium")
    >>> f.reasons, f.purchase_count, f.days_since_first_purchase, f.consecutive_failed_payments
    (('NPS 2',), 1, 2.0, 1)
    """
    message = score if isinstance(score, ScoreMessage) else ScoreMessage.model_validate(score)
    if previous_band is not None and previous_band not in BANDS:
        raise ValueError(f"previous_band must be one of {BANDS}, got {previous_band!r}")
    values = dict(_DEFAULTS)
    fields = message.__dict__
    for key in _FROM_SCORE:
        values[key] = fields[key]
    values["reasons"] = tuple(r.text for r in message.reasons)
    values["previous_band"] = previous_band
    if profile is not None:
        values.update(profile_facts(profile, message.event_time))
    return trusted(Facts, values)
