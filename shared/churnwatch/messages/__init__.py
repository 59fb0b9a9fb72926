"""The contracts of ``cw.scores`` and ``cw.actions`` (docs/messages.md), beside the event contract.

Each topic's message is a frozen, versioned pydantic model with an encoder (the producer's fast
path, byte for byte the published format) and a validating decoder (the consumer's side, raising
`MessageRejected`). `topic_json_schema` gives each topic's JSON Schema.

>>> from datetime import UTC, datetime
>>> m = ScoreMessage(customer_id="C-1", churn_probability=0.7, band="critical", tier="gold",
...                  clv=500.0, value_at_risk=350.0, event_time=datetime(2026, 3, 1, tzinfo=UTC))
>>> decode_score(encode_score(m)).value_at_risk
350.0
"""

from ._action import (
    ACTION_TYPES,
    ACTIONS_TOPIC,
    ActionMessage,
    ActionType,
    action_json,
    decode_action,
    encode_action,
)
from ._common import MessageVersion, UtcTime, trusted
from ._errors import MessageRejected
from ._schema import EVENTS_TOPIC, TOPICS, topic_json_schema
from ._score import (
    SCORE_FIELDS,
    SCORES_TOPIC,
    Reason,
    ScoreMessage,
    decode_score,
    encode_score,
    reasons_json,
)

__all__ = [
    "ACTIONS_TOPIC",
    "ACTION_TYPES",
    "EVENTS_TOPIC",
    "SCORES_TOPIC",
    "SCORE_FIELDS",
    "TOPICS",
    "ActionMessage",
    "ActionType",
    "MessageRejected",
    "MessageVersion",
    "Reason",
    "ScoreMessage",
    "UtcTime",
    "action_json",
    "decode_action",
    "decode_score",
    "encode_action",
    "encode_score",
    "reasons_json",
    "topic_json_schema",
    "trusted",
]
