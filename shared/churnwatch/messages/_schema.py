"""JSON Schema of each topic's messages: ``churnwatch schema --topic cw.scores`` prints one."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from pydantic import BaseModel

from ._action import ACTIONS_TOPIC, ActionMessage
from ._score import SCORES_TOPIC, ScoreMessage

__all__ = ["EVENTS_TOPIC", "TOPICS", "topic_json_schema"]

EVENTS_TOPIC = "cw.events"
TOPICS: tuple[str, ...] = (EVENTS_TOPIC, SCORES_TOPIC, ACTIONS_TOPIC)
"""The topics with a contract, by their default names (settings may rename the topics)."""

_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_MODELS: dict[str, type[BaseModel]] = {SCORES_TOPIC: ScoreMessage, ACTIONS_TOPIC: ActionMessage}


def topic_json_schema(topic: str) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the messages on ``topic``; a fresh copy.

    >>> schema = topic_json_schema("cw.scores")
    >>> schema["title"], "band" in schema["required"], "schema_version" in schema["required"]
    ('cw.scores message (v1)', True, False)
    >>> topic_json_schema("cw.nope")
    Traceback (most recent call last):
      ...
    ValueError: no contract for topic 'cw.nope'; known: cw.events, cw.scores, cw.actions
    """
    if topic not in TOPICS:
        raise ValueError(f"no contract for topic {topic!r}; known: {', '.join(TOPICS)}")
    return copy.deepcopy(_schema(topic))


@cache
def _schema(topic: str) -> dict[str, Any]:
    if topic == EVENTS_TOPIC:
        from churnwatch.events import event_json_schema

        return event_json_schema()
    return {"$schema": _DIALECT, **_MODELS[topic].model_json_schema(mode="validation")}
