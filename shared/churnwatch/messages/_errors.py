"""What a consumer learns about a record that is not a valid message of its topic."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from churnwatch.errors import ChurnError

__all__ = ["MessageRejected"]

_SHOWN = 3


class MessageRejected(ChurnError):
    """A ``cw.scores`` or ``cw.actions`` record broke its contract (docs/messages.md).

    ``errors`` lists every problem as ``{"field": dotted path, "message": why}``; consumers count
    and skip such a record, they never stop the partition for it.

    >>> exc = MessageRejected("cw.scores", [{"field": "band", "message": "missing"}])
    >>> str(exc), exc.topic
    ('cw.scores: band: missing', 'cw.scores')
    """

    def __init__(self, topic: str, errors: list[dict[str, str]]) -> None:
        self.topic = topic
        self.errors = errors
        shown = "; ".join(f"{e['field'] or '<message>'}: {e['message']}" for e in errors[:_SHOWN])
        more = f"; and {len(errors) - _SHOWN} more" if len(errors) > _SHOWN else ""
        super().__init__(f"{topic}: {shown}{more}")

    @classmethod
    def from_validation(cls, topic: str, exc: ValidationError) -> MessageRejected:
        """One entry per pydantic error, the field as a dotted path."""
        return cls(topic, [_entry(e) for e in exc.errors(include_url=False)])


def _entry(error: Any) -> dict[str, str]:
    field = ".".join(str(p) for p in error["loc"])
    if error["type"] == "json_invalid":
        return {"field": "", "message": f"invalid JSON: {error['msg']}"}
    if error["type"] == "timezone_aware":
        return {"field": field, "message": "needs a UTC offset"}
    return {"field": field, "message": str(error["msg"])}
