"""Pure helpers of the scoring worker: what a score is, when it enters the history, its message.

No I/O here: the processor builds `ScoreRecord`s, and these functions decide what is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

import orjson

from churnwatch.profile import Reason

Cause = Literal["event", "silence"]
Why = Literal["first", "band_change", "large_move"]
K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class ScoreRecord:
    """One customer's score as stored in ``latest_scores`` and sent to ``cw.scores``."""

    customer_id: str
    partition: int
    churn_probability: float
    band: str
    reasons: tuple[Reason, ...]
    clv: float
    clv_low: float | None
    clv_high: float | None
    tier: str
    lifecycle_stage: str
    rfm_segment: str | None
    value_at_risk: float
    business_model: str
    model_version: str
    event_time: datetime
    cause: Cause
    cause_event_id: str | None
    value_if_retained: float = 0.0
    """The value over the CLV horizon if the customer stays; tiers and value at risk are
    computed from it by default (docs/scoring.md, "Value basis")."""

    def reasons_json(self) -> list[dict[str, object]]:
        return [{"feature": r.feature, "text": r.text, "weight": r.weight} for r in self.reasons]


def last_per_key(items: Iterable[tuple[K, V]]) -> dict[K, V]:
    """Coalesce a stream to its last value per key, ordered by each key's *last* appearance.

    The worker scores a customer once per batch, at their last applied event; ordering by last
    appearance keeps the outbox in the order the events were consumed.

    >>> last_per_key([("a", 1), ("b", 2), ("a", 3)])
    {'b': 2, 'a': 3}
    """
    out: dict[K, V] = {}
    for key, value in items:
        out.pop(key, None)
        out[key] = value
    return out


def history_why(
    previous: tuple[float, str] | None, probability: float, band: str, *, min_move: float
) -> Why | None:
    """Whether a score enters the compact history, and why: the customer's first score, a band
    change, or a move of at least ``min_move`` in probability since the last *scored* value.

    >>> history_why(None, 0.2, "medium", min_move=0.1)
    'first'
    >>> history_why((0.2, "medium"), 0.4, "high", min_move=0.1)
    'band_change'
    >>> history_why((0.2, "medium"), 0.31, "medium", min_move=0.1)
    'large_move'
    >>> history_why((0.2, "medium"), 0.25, "medium", min_move=0.1) is None
    True
    """
    if previous is None:
        return "first"
    old_p, old_band = previous
    if old_band != band:
        return "band_change"
    if abs(probability - old_p) >= min_move - 1e-12:
        return "large_move"
    return None


def score_msg_id(record: ScoreRecord) -> str:
    """Deterministic ``cw-msg-id``: the same input re-processed gives the same id.

    A silence rescore has no event; it is named by the customer and the watermark instead.

    >>> from datetime import UTC
    >>> r = ScoreRecord("C-1", 0, 0.1, "low", (), 0.0, None, None, "bronze", "new", None, 0.0,
    ...                 "retail", "prior-v1", datetime(2026, 3, 1, tzinfo=UTC), "silence", None)
    >>> score_msg_id(r)
    'score:C-1:silence@2026-03-01T00:00:00+00:00'
    """
    if record.cause_event_id is not None:
        return f"score:{record.customer_id}:{record.cause_event_id}"
    return f"score:{record.customer_id}:silence@{record.event_time.isoformat()}"


def score_message(record: ScoreRecord) -> bytes:
    """The ``cw.scores`` value (JSON; docs/scoring.md lists the fields).

    >>> from datetime import UTC
    >>> r = ScoreRecord("C-1", 0, 0.42, "high", (Reason("nps_score", 0.5, "NPS 2"),), 120.0,
    ...                 100.0, 150.0, "gold", "at_risk", "at risk", 50.4, "retail", "prior-v1",
    ...                 datetime(2026, 3, 1, tzinfo=UTC), "event", "e-9")
    >>> doc = orjson.loads(score_message(r))
    >>> doc["band"], doc["reasons"][0]["text"], doc["event_time"], doc["cause_event_id"]
    ('high', 'NPS 2', '2026-03-01T00:00:00Z', 'e-9')
    """
    doc = {
        "customer_id": record.customer_id,
        "churn_probability": record.churn_probability,
        "band": record.band,
        "reasons": record.reasons_json(),
        "clv": record.clv,
        "clv_low": record.clv_low,
        "clv_high": record.clv_high,
        "value_if_retained": record.value_if_retained,
        "tier": record.tier,
        "lifecycle_stage": record.lifecycle_stage,
        "rfm_segment": record.rfm_segment,
        "value_at_risk": record.value_at_risk,
        "business_model": record.business_model,
        "model_version": record.model_version,
        "event_time": record.event_time,
        "cause": record.cause,
        "cause_event_id": record.cause_event_id,
    }
    return orjson.dumps(doc, option=orjson.OPT_UTC_Z)


def trace_headers(
    headers: Sequence[tuple[str, bytes]], prefix: str = "cw-trace-"
) -> list[tuple[str, str]]:
    """Input headers named ``cw-trace-*`` are copied onto the score (end-to-end latency).

    >>> trace_headers([("cw-trace-sent-at", b"1700000000.5"), ("other", b"x")])
    [('cw-trace-sent-at', '1700000000.5')]
    """
    return [(k, bytes(v).decode()) for k, v in headers if k.startswith(prefix)]
