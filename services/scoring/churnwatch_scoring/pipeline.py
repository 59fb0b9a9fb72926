"""Writing a batch in chunks, in order, while the processor computes the next chunk.

A batch's Python work (scoring, valuation) and PostgreSQL's work (the upserts) used to run one
after the other: the database sat idle while Python scored, and Python waited while the
database wrote. `ChunkWriter` runs each chunk's statements in a task chained to the previous
chunk's, on the batch's own connection and transaction, so the server executes chunk *i* while
the processor scores chunk *i + 1* (the processor yields to the loop now and then so the chain
can send its next statement). Nothing else uses the connection until `wait` returns.

Guarantees are those of one transaction: rows and outbox messages are written in the same order
as before (chunk by chunk, each chunk in order), and a failing statement fails `wait`, so the
worker base rolls the whole batch back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch_runtime.worker import OutboxMessage, outbox
from churnwatch_scoring import store
from churnwatch_scoring.scoring import BatchResult


class ChunkWriter:
    """Writes `BatchResult` chunks in submission order, each in its own chained task."""

    def __init__(self, pg: store.Pg, conn: AsyncConnection, now: datetime) -> None:
        self._pg = pg
        self._conn = conn
        self._now = now
        self._tasks: list[asyncio.Task[None]] = []

    def submit(self, result: BatchResult, messages: Sequence[OutboxMessage]) -> None:
        """Queue one chunk; it starts once the previous chunk is written (and never if it fails)."""
        previous = self._tasks[-1] if self._tasks else None
        self._tasks.append(asyncio.ensure_future(self._write(previous, result, messages)))

    async def wait(self) -> None:
        """Every chunk written; the first failure is raised (after all tasks have settled)."""
        outcomes = await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def settle(self) -> None:
        """Let in-flight chunks finish without raising: used when the caller already failed."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _write(
        self,
        previous: asyncio.Task[None] | None,
        result: BatchResult,
        messages: Sequence[OutboxMessage],
    ) -> None:
        if previous is not None:
            await previous  # a failed chunk fails every later one: nothing is written after it
        pg, now = self._pg, self._now
        await store.write_profiles(pg, result.profiles, now)
        await store.write_latest(pg, result.records, now)
        await store.insert_history(pg, result.history)
        await store.insert_transitions(pg, result.transitions)
        await store.write_due(pg, result.due)
        await store.insert_snapshots(pg, result.snapshots)
        await outbox.add_many(self._conn, messages)
