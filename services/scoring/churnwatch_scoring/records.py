"""Pure helpers of the scoring worker: the rows a batch writes, when a score enters the history,
its message.

No I/O here: `scoring.finish` builds `ScoreRecord`s and `SnapshotRow`s, `store` writes them, and
these functions decide what is written. The ``cw.scores`` message itself is
`churnwatch.messages.ScoreMessage` (docs/messages.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, TypeVar

from pydantic import ConfigDict, Field

from churnwatch.messages import ScoreMessage, encode_score

Cause = Literal["event", "silence"]
Why = Literal["first", "band_change", "large_move"]
K = TypeVar("K")
V = TypeVar("V")


class ScoreRecord(ScoreMessage):
    """One customer's score: the ``cw.scores`` message plus the partition that owns the customer,
    i.e. a ``latest_scores`` row (`store.write_latest` derives the columns from these fields)."""

    model_config = ConfigDict(title="latest_scores row")

    partition: int = Field(ge=0)
    # the raw R, F, M of the score (null without purchases): what `cuts` ranks customers by
    rfm_recency_days: float | None = None
    rfm_frequency: float | None = None
    rfm_monetary: float | None = None


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """A ``label_snapshots`` row: the features a score saw, kept for its delayed label."""

    customer_id: str
    day: date
    partition: int
    taken_at: datetime
    features: dict[str, float]
    business_model: str
    label_due_at: datetime
    last_activity_at: datetime | None = None  # the retail return evidence of earlier snapshots


def last_per_key(items: Iterable[tuple[K, V]]) -> dict[K, V]:
    """Coalesce a stream to its last value per key, ordered by each key's *last* appearance.

    A customer scored several times in a chunk has one ``latest_scores``/profile/due row: the
    last (an upsert may not touch a row twice in one statement).

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
    >>> r = ScoreRecord(customer_id="C-1", partition=0, churn_probability=0.1, band="low",
    ...                 tier="bronze", clv=0.0, value_at_risk=0.0, cause="silence",
    ...                 event_time=datetime(2026, 3, 1, tzinfo=UTC))
    >>> score_msg_id(r)
    'score:C-1:silence@2026-03-01T00:00:00+00:00'
    """
    if record.cause_event_id is not None:
        return f"score:{record.customer_id}:{record.cause_event_id}"
    return f"score:{record.customer_id}:silence@{record.event_time.isoformat()}"


def score_message(record: ScoreRecord) -> bytes:
    """The ``cw.scores`` value of ``record``: its message fields (`encode_score`), no partition."""
    return encode_score(record)


def trace_headers(
    headers: Sequence[tuple[str, bytes]], prefix: str = "cw-trace-"
) -> list[tuple[str, str]]:
    """Input headers named ``cw-trace-*`` are copied onto the score (end-to-end latency).

    >>> trace_headers([("cw-trace-sent-at", b"1700000000.5"), ("other", b"x")])
    [('cw-trace-sent-at', '1700000000.5')]
    """
    return [(k, bytes(v).decode()) for k, v in headers if k.startswith(prefix)]
