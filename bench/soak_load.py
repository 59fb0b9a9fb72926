"""The soak's load generator and probes (`bench.bench_soak`).

`steady` is an open loop like ``bench.bench_e2e``'s but it never drops: a 503 (ingest pushing
back) or a connection error is resent after the answer's Retry-After (or 1 s) with the same
event ids, so an event is either acknowledged or still being offered — what a well-behaved
client does.

At most ``IN_FLIGHT`` POSTs are handed to the HTTP client at once; the others wait on a
semaphore (a FIFO, O(1) per wake-up). Without it the soak's stall (2026-12-04) was this
process, not ingest: under a burst thousands of POSTs queued inside httpcore's connection pool,
whose every request and response rescans all queued requests against all connections, so the
event loop spent its whole time in ``_assign_requests_to_connections`` (73% CPU, one POST
answered in 10 minutes) while ingest sat idle with no request in flight and its server closed
the idle keep-alive sockets (the CLOSE-WAITs).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.bench_e2e import BATCH, Load, _actions

__all__ = ["Load", "Probe", "Sent", "actions_reader", "drain", "first_actions", "pct", "steady"]

actions_reader = _actions


@dataclass
class Sent:
    acknowledged: int = 0  # accepted + duplicate answers
    pushed_back: int = 0  # 503 answers (resent after Retry-After)
    errors: int = 0  # transport errors (resent)


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank on the sorted list).

    >>> pct([3.0, 1.0, 2.0], 0.5), pct([], 0.5) != pct([], 0.5)
    (2.0, True)
    """
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def first_actions(messages: list[tuple[float, str, str]], sent: dict[str, float]) -> list[float]:
    """Milliseconds from each trigger customer's POST to its first action.

    >>> first_actions([(2.0, "a", "p"), (3.0, "a", "p"), (1.0, "b", "p")], {"a": 1.5})
    [500.0]
    """
    first: dict[str, float] = {}
    for at, customer, _ in messages:
        t = sent.get(customer)
        if t is not None and at >= t and customer not in first:
            first[customer] = (at - t) * 1000
    return list(first.values())


IN_FLIGHT = 64  # POSTs in the HTTP client at once (its pool has as many connections)


async def _post(client: Any, body: bytes, out: Sent, gate: asyncio.Semaphore) -> None:
    import httpx

    while True:
        try:
            async with gate:
                answer = await client.post("/v1/events", content=body)
        except httpx.TransportError:
            out.errors += 1
            await asyncio.sleep(1.0)
            continue
        if answer.status_code == 200:
            doc = orjson.loads(answer.content)
            out.acknowledged += int(doc["accepted"]) + int(doc["duplicates"])
            return
        if answer.status_code != 503:
            raise RuntimeError(f"POST answered {answer.status_code}: {answer.text[:300]}")
        out.pushed_back += 1
        await asyncio.sleep(float(answer.headers.get("retry-after", "1")))


async def steady(
    base: str, key: str, load: Load, rate: float, seconds: float, *, triggers: float
) -> Sent:
    """Open loop at ``rate`` events/s for ``seconds``; ``triggers`` trigger customers/s."""
    import httpx

    ticks = int(seconds * rate / BATCH)
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    out = Sent()
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    gate = asyncio.Semaphore(IN_FLIGHT)
    async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers, limits=limits) as c:
        tasks = []
        start, owed = time.perf_counter(), 0.0
        for k in range(ticks):
            delay = start + k * BATCH / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            owed += triggers * BATCH / rate
            n, owed = int(owed), owed - int(owed)
            events, customers = load.batch(n)
            at = time.perf_counter()
            load.sent.update((cust, at) for cust in customers)
            tasks.append(asyncio.create_task(_post(c, orjson.dumps(events), out, gate)))
        await asyncio.gather(*tasks)
    return out


@dataclass
class Probe:
    """Lag, RSS and progress read from the database, the broker and ``/proc``."""

    db_url: str
    bootstrap: str
    topics: dict[str, str]
    scoring_group: str
    alerts_group: str
    partitions: int
    samples: list[tuple[float, dict[str, int], dict[str, int]]] = field(default_factory=list)
    consumed: list[tuple[float, int]] = field(default_factory=list)
    t0: float = field(default_factory=time.perf_counter)

    async def _conn(self) -> Any:
        import asyncpg

        return await asyncpg.connect(self.db_url.replace("+asyncpg", ""))

    async def lag(self) -> dict[str, int]:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        await consumer.start()
        try:
            ends = {}
            for name in ("events", "scores"):
                parts = [TopicPartition(self.topics[name], p) for p in range(self.partitions)]
                ends[name] = sum((await consumer.end_offsets(parts)).values())
        finally:
            await consumer.stop()
        conn = await self._conn()
        try:
            row = await conn.fetchrow(
                "SELECT (SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets"
                " WHERE group_id = $1), (SELECT coalesce(sum(next_offset), 0) FROM"
                " consumer_offsets WHERE group_id = $2), (SELECT count(*) FROM outbox)",
                self.scoring_group,
                self.alerts_group,
            )
        finally:
            await conn.close()
        self.consumed.append((time.perf_counter() - self.t0, int(row[0])))
        return {
            "scoring": ends["events"] - int(row[0]),
            "alerts": ends["scores"] - int(row[1]),
            "outbox": int(row[2]),
        }

    async def sample(self, sup: Any, every: float) -> None:
        self.t0 = time.perf_counter()
        while True:
            rss = await asyncio.to_thread(sup.rss_kib)
            lag = await self.lag()
            self.samples.append((time.perf_counter() - self.t0, rss, lag))
            await asyncio.sleep(every)

    def consumed_rate(self, seconds: float) -> float:
        """Events/s scoring committed over the soak after its warm-up fifth."""
        pts = [(t, n) for t, n in self.consumed if seconds * 0.2 <= t <= seconds]
        if len(pts) < 2:
            return float("nan")
        return (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])

    async def events_reflected(self) -> int:
        """Distinct events folded into profiles (sum of each profile's ``events``)."""
        from churnwatch.profile import CustomerProfile

        conn = await self._conn()
        try:
            rows = await conn.fetch("SELECT state FROM customer_profiles")
        finally:
            await conn.close()
        return sum(CustomerProfile.from_bytes(bytes(r[0])).events for r in rows)


async def drain(probe: Probe, timeout: float = 1800) -> None:
    """Until scoring's and alerts' lag and the outbox are 0, twice in a row."""
    deadline, calm = time.monotonic() + timeout, 0
    while calm < 2:
        if time.monotonic() > deadline:
            raise TimeoutError("the pipeline did not drain after the burst")
        lag = await probe.lag()
        calm = calm + 1 if not any(lag.values()) else 0
        await asyncio.sleep(0.5)
