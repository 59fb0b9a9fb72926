"""Transactional outbox: a processor's output messages, written in its batch transaction.

A message is in PostgreSQL exactly when the state change that produced it is; ``OutboxRelay``
publishes it to Kafka afterwards. Publication is at-least-once (a relay that dies between Kafka's
ack and the delete publishes the row again), so every message carries the header ``cw-msg-id``:
consumers dedupe on it. Pass a ``msg_id`` derived from the input (``source_msg_id``) so the id is
also stable if the input is ever re-processed (offsets reset, replay); without one, the relay uses
``outbox-<row id>``, which is stable across re-publications of the same row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

MSG_ID_HEADER = "cw-msg-id"
OUTBOX_ID_HEADER = "cw-outbox-id"
NOTIFY_CHANNEL = "cw_outbox"

Headers = Mapping[str, str] | Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
    msg_id: str | None = None

    def header_json(self) -> str:
        """Headers as stored: a JSON list of ``[name, value]`` with ``cw-msg-id`` first if given."""
        pairs = (
            list(self.headers.items()) if isinstance(self.headers, Mapping) else list(self.headers)
        )
        if self.msg_id is not None:
            pairs = [(MSG_ID_HEADER, self.msg_id), *(p for p in pairs if p[0] != MSG_ID_HEADER)]
        return orjson.dumps(pairs).decode()


def source_msg_id(topic: str, partition: int, offset: int, n: int = 0) -> str:
    """A message id derived from the consumed record (``n``: the record's n-th output).

    >>> source_msg_id("cw.events", 3, 1200)
    'cw.events/3/1200/0'
    """
    return f"{topic}/{partition}/{offset}/{n}"


class Outbox:
    """Inserts outbox rows; ``notify`` wakes relays that LISTEN (they also poll)."""

    def __init__(self, *, notify: bool = True) -> None:
        self.notify = notify

    async def add(
        self,
        conn: AsyncConnection,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Headers = (),
        *,
        msg_id: str | None = None,
    ) -> None:
        """One message; prefer ``add_many`` for one statement per batch."""
        await self.add_many(conn, [OutboxMessage(topic, key, value, headers, msg_id)])

    async def add_many(self, conn: AsyncConnection, messages: Sequence[OutboxMessage]) -> int:
        """Insert ``messages`` in order with one statement (``unnest``), whatever their number."""
        if not messages:
            return 0
        insert = (
            "INSERT INTO outbox (topic, key, value, headers)"
            " SELECT u.t, u.k, u.v, CAST(u.h AS jsonb) FROM unnest(CAST(:topics AS text[]),"
            " CAST(:keys AS bytea[]), CAST(:vals AS bytea[]), CAST(:headers AS text[]))"
            " WITH ORDINALITY AS u(t, k, v, h, i) ORDER BY u.i"
        )
        if self.notify:
            # A data-modifying CTE always runs; pg_notify is called once per statement.
            insert = f"WITH ins AS ({insert} RETURNING 1) SELECT pg_notify('{NOTIFY_CHANNEL}', '')"
        await conn.execute(
            text(insert),
            {
                "topics": [m.topic for m in messages],
                "keys": [m.key for m in messages],
                "vals": [m.value for m in messages],
                "headers": [m.header_json() for m in messages],
            },
        )
        return len(messages)


outbox = Outbox()
