"""A small processor for the worker tests: counts events per key, one outbox row per event.

Also a real process (``python -m tests.integration.worker.counter_worker --bootstrap ...``) so the
process test can SIGKILL it mid-stream.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Collection

from aiokafka import TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from churnwatch_runtime.db import make_engine
from churnwatch_runtime.logs import configure_logging
from churnwatch_runtime.worker import (
    Batch,
    OutboxMessage,
    OutboxRelay,
    Worker,
    WorkerConfig,
    outbox,
    run_worker,
    source_msg_id,
)

DDL = "CREATE TABLE IF NOT EXISTS worker_counts (key text PRIMARY KEY, n bigint NOT NULL)"


async def create_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(DDL))


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT key, n FROM worker_counts"))
        return {k: int(n) for k, n in rows}


class CounterProcessor:
    """``worker_counts[key] += 1`` per record and an outbox copy of it, in the batch transaction."""

    def __init__(self, out_topic: str, *, slow_ms: int = 0) -> None:
        self.out_topic = out_topic
        self.slow_ms = slow_ms
        self.owned: set[TopicPartition] = set()  # the "cache": what hooks say we own
        self.assigned_calls = 0
        self.revoked_calls = 0

    async def process(self, conn: AsyncConnection, batch: Batch) -> None:
        per_key = Counter(bytes(r.key).decode() for r in batch)
        await conn.execute(
            text(
                "INSERT INTO worker_counts (key, n) SELECT * FROM unnest(CAST(:k AS text[]),"
                " CAST(:n AS bigint[])) ON CONFLICT (key) DO UPDATE"
                " SET n = worker_counts.n + EXCLUDED.n"
            ),
            {"k": list(per_key), "n": list(per_key.values())},
        )
        await outbox.add_many(
            conn,
            [
                OutboxMessage(
                    self.out_topic,
                    r.key,
                    r.value,
                    headers=[("source", f"{r.topic}/{r.partition}")],
                    msg_id=source_msg_id(r.topic, r.partition, r.offset),
                )
                for r in batch
            ],
        )
        if self.slow_ms:
            await asyncio.sleep(self.slow_ms / 1000)

    async def on_assigned(
        self, conn: AsyncConnection, partitions: Collection[TopicPartition]
    ) -> None:
        self.assigned_calls += 1
        self.owned |= set(partitions)

    async def on_revoked(self, partitions: Collection[TopicPartition]) -> None:
        self.revoked_calls += 1
        self.owned -= set(partitions)


async def _main(args: argparse.Namespace) -> None:
    engine = make_engine(args.db)
    try:
        await create_tables(engine)
        worker = Worker(
            engine,
            CounterProcessor(args.out_topic, slow_ms=args.slow_ms),
            bootstrap=args.bootstrap,
            topics=[args.topic],
            group_id=args.group,
            config=WorkerConfig(max_records=args.max_records, max_wait_ms=100),
        )
        relays = [OutboxRelay(engine, args.bootstrap, batch_size=500)] if args.relay else []
        await run_worker(worker, also=relays)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--out-topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--max-records", type=int, default=500)
    parser.add_argument("--slow-ms", type=int, default=0)
    parser.add_argument("--relay", action="store_true")
    args = parser.parse_args(argv)
    configure_logging("INFO")
    asyncio.run(_main(args))
    print("counter worker stopped cleanly", file=sys.stderr)


if __name__ == "__main__":
    main()
