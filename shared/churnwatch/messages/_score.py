"""The ``cw.scores`` contract: one customer's churn score, as scoring publishes it.

Scoring builds a `ScoreMessage` without validation (`trusted`) and writes it with
`encode_score`; alerts, the simulator and the API read it with `decode_score`, which validates.
A reason is `churnwatch.profile.Reason`, the type `top_reasons` returns, so a score carries its
reasons as computed (no copy per score); on the wire it is ``{"feature", "text", "weight"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from churnwatch.profile import Reason

from ._common import MessageVersion, UtcTime, decode

__all__ = [
    "SCORES_TOPIC",
    "SCORE_FIELDS",
    "Reason",
    "ScoreMessage",
    "decode_score",
    "encode_score",
    "reasons_json",
]

SCORES_TOPIC = "cw.scores"


class ScoreMessage(BaseModel):
    """One ``cw.scores`` record, keyed by ``customer_id`` (docs/messages.md lists the fields).

    Scoring writes every field; the defaults are what a reader assumes when an older or a
    hand-written record lacks one.

    >>> m = decode_score(b'{"customer_id": "C-1", "churn_probability": 0.4, "band": "high",'
    ...                  b' "tier": "gold", "clv": 300.0, "value_at_risk": 120.0,'
    ...                  b' "event_time": "2026-03-01T00:00:00Z"}')
    >>> m.band, m.event_time.isoformat(), m.cause, m.schema_version
    ('high', '2026-03-01T00:00:00+00:00', 'event', 1)
    """

    model_config = ConfigDict(frozen=True, extra="ignore", title="cw.scores message (v1)")

    schema_version: MessageVersion = Field(1, description="Absent on the wire in version 1.")
    customer_id: str = Field(min_length=1, max_length=64, description="The Kafka key.")
    churn_probability: float = Field(ge=0, le=1, description="Calibrated P(churn).")
    band: Literal["low", "medium", "high", "critical"]
    reasons: tuple[Reason, ...] = Field((), description="Top risk drivers, strongest first.")
    clv: float = Field(description="Customer lifetime value (risk-discounted).")
    clv_low: float | None = Field(None, description="Lower end of the CLV interval.")
    clv_high: float | None = Field(None, description="Upper end of the CLV interval.")
    value_if_retained: float | None = Field(None, description="Value over the horizon if kept.")
    tier: Literal["bronze", "silver", "gold", "platinum"]
    lifecycle_stage: str = "none"
    rfm_segment: str | None = None
    value_at_risk: float = Field(description="Churn probability x the value basis.")
    business_model: Literal["retail", "subscription"] = "retail"
    model_version: str = ""
    event_time: UtcTime = Field(description="Event time of the score (its cause's time).")
    cause: Literal["event", "silence"] = "event"
    cause_event_id: str | None = Field(None, description="The event scored; null for silence.")
    clv_params_id: int | None = Field(
        None, description="The clv_params row valued with; null: the published defaults."
    )
    cuts_version: int | None = Field(
        None, description="The population_cuts version of tier and segment; null: none yet."
    )


SCORE_FIELDS: tuple[str, ...] = tuple(k for k in ScoreMessage.model_fields if k != "schema_version")
"""The fields a v1 record carries, in wire order (the store's ``latest_scores`` columns too)."""


def reasons_json(reasons: Sequence[Reason]) -> list[dict[str, Any]]:
    """The wire form of the reasons (also stored as ``latest_scores.reasons``).

    >>> reasons_json([Reason("nps_score", 0.5, "NPS 2")])
    [{'feature': 'nps_score', 'text': 'NPS 2', 'weight': 0.5}]
    """
    return [{"feature": r.feature, "text": r.text, "weight": r.weight} for r in reasons]


def encode_score(message: ScoreMessage) -> bytes:
    """The ``cw.scores`` value: JSON, times with ``Z``, the fields in `SCORE_FIELDS` order.

    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 3, 1, tzinfo=UTC)
    >>> m = ScoreMessage(customer_id="C-1", churn_probability=0.4, band="high", tier="gold",
    ...                  clv=300.0, value_at_risk=120.0, event_time=at)
    >>> encode_score(m)[-115:-80]
    b'"event_time":"2026-03-01T00:00:00Z"'
    >>> encode_score(m)[-79:]
    b'"cause":"event","cause_event_id":null,"clv_params_id":null,"cuts_version":null}'
    >>> decode_score(encode_score(m)) == m
    True
    """
    v = message.__dict__  # a literal, not a loop over SCORE_FIELDS: one score per customer
    doc = {
        "customer_id": v["customer_id"],
        "churn_probability": v["churn_probability"],
        "band": v["band"],
        "reasons": [
            {"feature": r.feature, "text": r.text, "weight": r.weight} for r in v["reasons"]
        ],
        "clv": v["clv"],
        "clv_low": v["clv_low"],
        "clv_high": v["clv_high"],
        "value_if_retained": v["value_if_retained"],
        "tier": v["tier"],
        "lifecycle_stage": v["lifecycle_stage"],
        "rfm_segment": v["rfm_segment"],
        "value_at_risk": v["value_at_risk"],
        "business_model": v["business_model"],
        "model_version": v["model_version"],
        "event_time": v["event_time"],
        "cause": v["cause"],
        "cause_event_id": v["cause_event_id"],
        "clv_params_id": v["clv_params_id"],
        "cuts_version": v["cuts_version"],
    }
    return orjson.dumps(doc, option=orjson.OPT_UTC_Z)


def decode_score(raw: bytes | bytearray | str | Mapping[str, Any]) -> ScoreMessage:
    """A validated `ScoreMessage` from a record's value; `MessageRejected` if it is not one.

    >>> decode_score(b'{"customer_id": "C-1", "band": "hot"}')
    Traceback (most recent call last):
      ...
    churnwatch.messages._errors.MessageRejected: cw.scores: churn_probability: Field required; ...
    """
    return decode(ScoreMessage, SCORES_TOPIC, raw)
