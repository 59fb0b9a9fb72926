"""The ``cw.actions`` contract: one retention action for one customer, as alerts publishes it.

Alerts builds an `ActionMessage` per treated match (`churnwatch.alerts.Match.action_message`) and
writes it with `encode_action` (the webhook body is the same bytes); the simulator reads it back
with `decode_action`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

import orjson
from pydantic import BaseModel, ConfigDict, Field

from ._common import MessageVersion, UtcTime, decode

__all__ = [
    "ACTIONS_TOPIC",
    "ACTION_TYPES",
    "ActionMessage",
    "ActionType",
    "action_json",
    "decode_action",
    "encode_action",
]

ACTIONS_TOPIC = "cw.actions"

ActionType = Literal[
    "save_call", "offer", "service_recovery", "billing_outreach", "repeat_nudge", "win_back"
]
"""What an action asks for; playbooks name one, the simulator knows how each one works."""
ACTION_TYPES: tuple[str, ...] = get_args(ActionType)


class ActionMessage(BaseModel):
    """One ``cw.actions`` record, keyed by ``customer_id`` (docs/messages.md).

    ``params`` always holds ``playbook_id``, ``playbook_version``, ``mode``, ``channel``,
    ``priority`` and ``value_at_risk``; a task adds ``talking_points`` and ``sla_due_at``; the
    playbook's own ``params`` (``discount_pct``, ``offer_code``, ``team``, …) come along.

    >>> a = decode_action(b'{"action_id": "A-1", "customer_id": "C-9", "action_type": "offer",'
    ...                   b' "issued_at": "2026-03-01T10:00:00Z", "params": {"discount_pct": 20}}')
    >>> a.action_type, a.issued_at.hour, a.params["discount_pct"]
    ('offer', 10, 20)
    """

    model_config = ConfigDict(frozen=True, extra="ignore", title="cw.actions message (v1)")

    schema_version: MessageVersion = Field(1, description="Absent on the wire in version 1.")
    action_id: str = Field(min_length=1, max_length=128, description="Deterministic; dedupe key.")
    customer_id: str = Field(min_length=1, max_length=64, description="The Kafka key.")
    action_type: ActionType
    issued_at: UtcTime | None = Field(
        None, description="The score's event time; absent: apply at once (simulator files)."
    )
    params: dict[str, Any] = Field(default_factory=dict)


def action_json(message: ActionMessage) -> dict[str, Any]:
    """The wire form as a dict (``issued_at`` as text with ``Z``), e.g. for a JSON response.

    >>> from datetime import UTC, datetime
    >>> m = ActionMessage(action_id="A-1", customer_id="C-9", action_type="offer",
    ...                   issued_at=datetime(2026, 3, 1, tzinfo=UTC))
    >>> action_json(m)["issued_at"]
    '2026-03-01T00:00:00Z'
    """
    doc: dict[str, Any] = orjson.loads(encode_action(message))
    return doc


def encode_action(message: ActionMessage) -> bytes:
    """The ``cw.actions`` value (and webhook body): JSON, ``issued_at`` with ``Z``.

    >>> m = ActionMessage(action_id="A-1", customer_id="C-9", action_type="offer")
    >>> encode_action(m)
    b'{"action_id":"A-1","customer_id":"C-9","action_type":"offer","issued_at":null,"params":{}}'
    """
    doc = {
        "action_id": message.action_id,
        "customer_id": message.customer_id,
        "action_type": message.action_type,
        "issued_at": message.issued_at,
        "params": message.params,
    }
    return orjson.dumps(doc, option=orjson.OPT_UTC_Z)


def decode_action(raw: bytes | bytearray | str | Mapping[str, Any]) -> ActionMessage:
    """A validated `ActionMessage`; `MessageRejected` (every problem listed) if it is not one.

    >>> decode_action({"action_id": "A-2", "customer_id": "C-1", "action_type": "hug"})
    Traceback (most recent call last):
      ...
    churnwatch.messages._errors.MessageRejected: cw.actions: action_type: Input should be ...
    """
    return decode(ActionMessage, ACTIONS_TOPIC, raw)
