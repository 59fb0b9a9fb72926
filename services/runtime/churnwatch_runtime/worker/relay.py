"""Outbox relay: publish outbox rows in id order, wait for Kafka's acks, then delete them.

One transaction per batch: lock the rows, send them all with the idempotent producer (acks=all),
wait for every ack, delete, commit. A crash anywhere before the commit leaves the rows in place and
they are published again (same ``cw-msg-id``): at-least-once, deduped by consumers.

Several relays may run (one per service replica). Row-level ``FOR UPDATE SKIP LOCKED`` alone would
let two relays publish neighbouring batches concurrently and reorder one key's messages, so each
batch first takes a transaction-scoped advisory lock: one relay publishes at a time, the others are
hot standbys that take over on their next poll when it dies (the lock goes with its connection).
Per-key order then holds as long as each key's rows are written by serialised transactions, which
the worker loop guarantees (one partition, one owner, one batch at a time).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from churnwatch_runtime.db import raw_connection
from churnwatch_runtime.kafka import make_producer
from churnwatch_runtime.worker.outbox import MSG_ID_HEADER, NOTIFY_CHANNEL, OUTBOX_ID_HEADER

log = logging.getLogger(__name__)

RELAY_LOCK_KEY = 7240002  # pg advisory lock id (7240001 is Alembic's)

_SELECT = text(
    "SELECT id, topic, key, value, headers FROM outbox ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"
)


class OutboxRelay:
    """Runs until ``stop`` is set; ``relay_once`` is one batch (tests call it directly)."""

    def __init__(
        self,
        engine: AsyncEngine,
        bootstrap: str,
        *,
        batch_size: int = 2000,
        poll_interval: float = 0.05,
        listen: bool = True,
        retry_backoff: float = 0.5,
        producer_options: dict[str, Any] | None = None,
    ) -> None:
        self._engine = engine
        self._bootstrap = bootstrap
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._listen = listen
        self._retry_backoff = retry_backoff
        self._producer_options = producer_options or {}
        self._producer: AIOKafkaProducer | None = None
        self._wake = asyncio.Event()
        self.published = 0
        self.last_publish_at: float | None = None

    async def start(self) -> None:
        if self._producer is None:
            self._producer = make_producer(self._bootstrap, **self._producer_options)
            await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop``; a failing batch is retried after a backoff (rows stay put)."""
        await self.start()
        listener = await self._start_listening() if self._listen else None
        try:
            while not stop.is_set():
                try:
                    sent = await self.relay_once()
                except Exception:
                    log.exception("outbox relay batch failed; retrying")
                    await _wait_any(stop, None, self._retry_backoff)
                    continue
                if sent < self._batch_size:
                    await _wait_any(stop, self._wake, self._poll_interval)
                    self._wake.clear()
        finally:
            if listener is not None:
                await listener.close()
            await self.stop()

    async def relay_once(self) -> int:
        """Publish and delete one batch; 0 if the outbox is empty or another relay is active."""
        await self.start()
        async with self._engine.begin() as conn:
            locked = await conn.scalar(
                text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": RELAY_LOCK_KEY}
            )
            if not locked:
                return 0
            rows = (await conn.execute(_SELECT, {"n": self._batch_size})).all()
            if not rows:
                return 0
            await self._publish(rows)
            await self._delete(conn, [row.id for row in rows])
        self.published += len(rows)
        self.last_publish_at = time.time()
        return len(rows)

    async def _publish(self, rows: Sequence[Any]) -> None:
        assert self._producer is not None
        acks = []
        for row in rows:
            headers = [(str(n), str(v).encode()) for n, v in row.headers]
            if not any(n == MSG_ID_HEADER for n, _ in headers):
                headers.insert(0, (MSG_ID_HEADER, f"outbox-{row.id}".encode()))
            headers.append((OUTBOX_ID_HEADER, str(row.id).encode()))
            key = bytes(row.key) if row.key is not None else None
            value = bytes(row.value) if row.value is not None else None
            acks.append(await self._producer.send(row.topic, value, key=key, headers=headers))
        await asyncio.gather(*acks)  # every row acknowledged (acks=all) before any delete

    async def _delete(self, conn: AsyncConnection, ids: list[int]) -> None:
        await conn.execute(
            text("DELETE FROM outbox WHERE id = ANY(CAST(:ids AS bigint[]))"), {"ids": ids}
        )

    async def _start_listening(self) -> _Listener | None:
        try:
            return await _Listener.open(self._engine, self._wake)
        except Exception:  # polling still works; LISTEN only shortens the wait
            log.warning("outbox relay: LISTEN unavailable, polling only", exc_info=True)
            return None


class _Listener:
    """A dedicated connection LISTENing on the outbox channel; NOTIFY sets ``wake``."""

    def __init__(self, conn: AsyncConnection, raw: Any, wake: asyncio.Event) -> None:
        self._conn = conn
        self._raw = raw
        self._wake = wake

    @classmethod
    async def open(cls, engine: AsyncEngine, wake: asyncio.Event) -> _Listener:
        conn = await engine.connect()
        raw = await raw_connection(conn)  # outside a transaction: LISTEN stays on it
        self = cls(conn, raw, wake)
        await raw.add_listener(NOTIFY_CHANNEL, self._on_notify)
        return self

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def close(self) -> None:
        try:
            await self._raw.remove_listener(NOTIFY_CHANNEL, self._on_notify)
        finally:
            await self._conn.close()


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event | None, timeout: float) -> None:
    """Sleep up to ``timeout``, waking early on ``stop`` (or ``wake``)."""
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
