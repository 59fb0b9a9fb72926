"""churnwatch's actions as the simulator receives them, and where they come from.

An action is the JSON object alerts publishes on ``cw.actions`` (the contract is
`churnwatch.messages.ActionMessage`, docs/messages.md)::

    {"action_id": "A-1", "customer_id": "C-000042", "action_type": "offer",
     "issued_at": "2025-03-01T10:00:00Z", "params": {"discount_pct": 20}}

Sources hand out the actions whose ``issued_at`` has come (:meth:`drain`); the simulator applies
them before the next simulated day. :class:`KafkaActionReader` consumes the topic in the
background (live mode); :class:`FileActionSource` replays a JSON-lines file (deterministic runs).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from churnwatch.messages import ActionMessage, ActionType, MessageRejected, decode_action

__all__ = [
    "Action",
    "ActionRejected",
    "ActionSource",
    "ActionType",
    "FileActionSource",
    "KafkaActionReader",
    "customer_index",
    "parse_action",
]

log = logging.getLogger(__name__)

Action = ActionMessage
"""One retention action aimed at one customer: the ``cw.actions`` contract itself."""


class ActionRejected(ValueError):
    """The message is not an action; ``errors`` lists why (field and message)."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def parse_action(raw: bytes | str | Mapping[str, Any]) -> Action:
    """An :class:`Action` from a Kafka value, a JSON text or a dict (`decode_action`).

    >>> parse_action(b'{"action_id": "A-1", "customer_id": "C-000042", "action_type": "offer",'
    ...              b' "issued_at": "2025-03-01T10:00:00Z"}').issued_at.isoformat()
    '2025-03-01T10:00:00+00:00'
    >>> parse_action({"action_id": "A-2", "customer_id": "C-1", "action_type": "hug"})
    Traceback (most recent call last):
      ...
    churnwatch_sim.actions.ActionRejected: action_type: Input should be 'save_call', ...
    """
    try:
        return decode_action(raw)
    except MessageRejected as exc:
        raise ActionRejected(exc.errors) from None


def customer_index(customer_id: str, customers: int) -> int | None:
    """The population index of a simulated customer id, or None if it is not one of ours.

    >>> customer_index("C-000042", 100), customer_index("C-000042", 10), customer_index("X-1", 10)
    (42, None, None)
    """
    if not customer_id.startswith("C-") or not customer_id[2:].isdigit():
        return None
    index = int(customer_id[2:])
    return index if index < customers else None


class ActionSource(Protocol):
    """Where actions come from; ``drain`` returns those issued at or before ``until``."""

    rejected: int

    async def start(self) -> None: ...
    def drain(self, until: datetime) -> list[Action]: ...
    async def stop(self) -> None: ...


class _Queue:
    """Actions waiting for their ``issued_at``, kept in arrival order."""

    def __init__(self) -> None:
        self.waiting: list[Action] = []
        self.rejected = 0
        self.received = 0

    def add_raw(self, raw: bytes | str | Mapping[str, Any]) -> None:
        self.received += 1
        try:
            self.waiting.append(parse_action(raw))
        except ActionRejected as exc:
            self.rejected += 1
            log.warning("ignoring a bad action: %s", exc)

    def drain(self, until: datetime) -> list[Action]:
        ready = [a for a in self.waiting if a.issued_at is None or a.issued_at <= until]
        self.waiting = [
            a for a in self.waiting if not (a.issued_at is None or a.issued_at <= until)
        ]
        return ready


class FileActionSource(_Queue):
    """Actions from a JSON-lines file (one action per line), applied by ``issued_at``."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    async def start(self) -> None:
        with self.path.open("rb") as fh:
            for line in fh:
                if line.strip():
                    self.add_raw(line)
        far = datetime.max.replace(tzinfo=UTC)
        self.waiting.sort(key=lambda a: a.issued_at or far)

    async def stop(self) -> None:
        return None


class KafkaActionReader(_Queue):
    """Consumes ``cw.actions`` in a background task; :meth:`drain` hands out what has arrived.

    ``consumer`` is any started-on-``start()`` async iterator of records with a ``value`` (an
    ``AIOKafkaConsumer`` by default, made from ``bootstrap``).
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        topic: str = "cw.actions",
        group_id: str = "churnwatch-simulator",
        consumer: Any = None,
    ) -> None:
        super().__init__()
        self.bootstrap, self.topic, self.group_id = bootstrap, topic, group_id
        self.consumer = consumer
        self._task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None

    async def start(self) -> None:
        if self.consumer is None:  # aiokafka wants to be created inside the event loop
            from aiokafka import AIOKafkaConsumer

            self.consumer = AIOKafkaConsumer(
                self.topic,
                bootstrap_servers=self.bootstrap,
                group_id=self.group_id,
                auto_offset_reset="latest",
                enable_auto_commit=True,
            )
        await self.consumer.start()
        self._task = asyncio.create_task(self._run(), name="cw.actions reader")

    async def _run(self) -> None:
        try:
            async for record in self.consumer:
                if record.value is None:
                    self.rejected += 1
                    continue
                self.add_raw(record.value)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # surfaced by drain(), never swallowed
            self.error = exc

    def drain(self, until: datetime) -> list[Action]:
        if self.error is not None:
            raise RuntimeError("the cw.actions reader failed") from self.error
        return super().drain(until)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.consumer is not None:
            await self.consumer.stop()
