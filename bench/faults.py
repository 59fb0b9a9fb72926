"""Fault injection through the whole pipeline (issue 12): one simulated history, twice.

Real processes on a real broker and PostgreSQL (`bench.faults_infra`): ingest's HTTP app and
its raw validator, the scoring worker (+ outbox relay), the learner, alerts (+ relay and webhook
dispatcher), and a webhook receiver in this process. The simulator's history is fed in event
time order: one customer in ``raw_share`` goes to ``cw.events.raw`` through a Kafka producer,
the others to ``POST /v1/events`` in bodies of ``post_size`` events, each body retried (same
ids) until ingest answers 200 — an event counts as *accepted* once ingest acknowledged it. The
feed waits while scoring is more than ``max_backlog`` offsets behind, so every fault lands on a
pipeline with work in flight.

The clean run feeds the history with nothing injected; the fault run feeds the same history
(same seed: same events, same ids) into a fresh database and fresh topics while
`schedule` fires, at seed-chosen points of the feed: SIGKILL (then restart) of ingest, the raw
validator, scoring, the learner and alerts; a broker restart; a PostgreSQL restart; a second
scoring worker joining the group and later leaving it; the receiver timing out, then failing,
then recovering. Both runs end when every consumer has committed to the end of its topics, the
outbox is empty and no webhook delivery is pending; `bench.faults_check` compares them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.faults_infra import Cluster, Receiver, Supervisor, serve, service_env, topics_of
from bench.infra import wait_ready

KILLS = ("ingest", "ingest-raw", "scoring", "learner", "alerts")
FAULTS = (
    *(f"kill:{name}" for name in KILLS),
    "restart:broker",
    "restart:postgres",
    "join:scoring-b",
    "leave:scoring-b",
    "receiver:timeout",
    "receiver:fail",
    "receiver:ok",
)


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Size and knobs of one comparison (``customers`` x ``days`` ≈ 2 events per day each)."""

    customers: int
    days: int
    seed: int = 12
    partitions: int = 6
    raw_share: int = 4
    post_size: int = 1000
    max_backlog: int = 25_000
    down_s: float = 2.0  # how long a killed service, the broker or PostgreSQL stays down
    timeout_s: float = 3600.0


def schedule(seed: int, total: int) -> list[tuple[int, str]]:
    """(events fed, fault) in firing order: each fault once at a seed-chosen point of the feed;
    the second worker leaves after it joined; the receiver times out, then fails, then recovers.

    >>> plan = schedule(3, 100_000)
    >>> sorted(f for _, f in plan) == sorted(FAULTS), plan == schedule(3, 100_000)
    (True, True)
    >>> at = {f: n for n, f in plan}
    >>> at["join:scoring-b"] < at["leave:scoring-b"], at["receiver:fail"] < at["receiver:ok"]
    (True, True)
    """
    rng = random.Random(seed)
    points = {f: int(total * rng.uniform(0.08, 0.8)) for f in FAULTS}
    join, leave = sorted(rng.uniform(0.1, 0.85) for _ in range(2))
    points["join:scoring-b"], points["leave:scoring-b"] = int(total * join), int(total * leave)
    t0 = rng.uniform(0.15, 0.6)
    for k, f in enumerate(("receiver:timeout", "receiver:fail", "receiver:ok")):
        points[f] = int(total * (t0 + 0.08 * k))
    return sorted(((n, f) for f, n in points.items()), key=lambda x: (x[0], FAULTS.index(x[1])))


@dataclass
class Feed:
    """What the feed sent and what ingest acknowledged."""

    sent: int = 0
    expected: Counter[str] = field(default_factory=Counter)  # customer → events accepted
    erased: set[str] = field(default_factory=set)  # customers the history erases
    http_posts: int = 0
    http_retries: int = 0
    http_status: Counter[int] = field(default_factory=Counter)
    acknowledged: Counter[str] = field(default_factory=Counter)  # accepted / duplicate
    raw_retries: int = 0
    fired: list[tuple[int, str, float]] = field(default_factory=list)  # (fed, fault, seconds)


@dataclass
class Run:
    """One run's context: where things are and what happened."""

    cfg: FaultConfig
    cluster: Cluster
    db_url: str
    env: dict[str, str]
    sup: Supervisor
    receiver: Receiver
    key: str
    feed: Feed = field(default_factory=Feed)
    seconds: float = 0.0
    drain_seconds: float = 0.0

    @property
    def topics(self) -> dict[str, str]:
        return topics_of(self.env)

    @property
    def groups(self) -> dict[str, str]:
        e = self.env
        return {"scoring": e["CW_SCORING_GROUP_ID"], "alerts": e["CW_ALERTS_GROUP_ID"],
                "raw": e["CW_INGEST_RAW_GROUP_ID"]}  # fmt: skip


def history(cfg: FaultConfig) -> list[list[str]]:
    """The simulated history as one list of JSON lines per day (event time order)."""
    from churnwatch_sim import SimConfig, Simulator

    sim = Simulator(
        SimConfig(days=cfg.days, seed=cfg.seed).with_overrides(
            **{"population.customers": cfg.customers}
        )
    )
    days: list[list[str]] = []
    while not sim.done:
        day = sim.step()
        days.append([line for chunk in day.chunks(50_000) for line in chunk])
    return days


def customer_of(line: str) -> str:
    """The customer id of a simulator line (its template puts it at a fixed key).

    >>> customer_of('{"event_id":"e","customer_id":"C-0042","source":"app"}')
    'C-0042'
    """
    start = line.index('"customer_id":"') + 15
    return line[start : line.index('"', start)]


async def run(
    cfg: FaultConfig, cluster: Cluster, workdir: Path, name: str, days: list[list[str]],
    *, faults: bool,
) -> Run:  # fmt: skip
    """Feed ``days`` through a fresh pipeline (``faults``: while `schedule` fires); drain."""
    from bench.faults_check import drained
    from churnwatch_runtime.infra._proc import free_port
    from churnwatch_runtime.kafka import ensure_topics

    db_url = await asyncio.to_thread(cluster.database, f"faults_{name}")
    ports = {k: free_port() for k in ("ingest", "ingest-raw", "scoring", "alerts", "scoring-b")}
    env = service_env(cluster.broker.bootstrap, db_url, name, ports, cfg.partitions)
    await ensure_topics(
        cluster.broker.bootstrap, list(topics_of(env).values()), partitions=cfg.partitions
    )
    sup = Supervisor(env, workdir / f"logs-{name}")
    sup.extra_env["scoring-b"] = {"CW_SCORING_PORT": str(ports["scoring-b"])}
    receiver = Receiver()
    with serve(receiver) as url:
        await _add_endpoint(db_url, url)
        r = Run(cfg, cluster, db_url, env, sup, receiver, await _key(db_url))
        for service in ("ingest", "ingest-raw", "scoring", "learner", "alerts"):
            sup.start(service)
        await wait_ready(f"http://127.0.0.1:{ports['ingest']}/readyz", None, timeout=120)
        started = time.perf_counter()
        total = sum(len(d) for d in days)
        plan = schedule(cfg.seed, total) if faults else []
        watch = asyncio.create_task(_supervise(sup))
        injector = asyncio.create_task(_inject(r, plan))
        try:
            await _feed(r, days)
            await injector
            fed = time.perf_counter()
            await drained(r)
            r.drain_seconds = time.perf_counter() - fed
        finally:
            watch.cancel()
            if not injector.done():
                injector.cancel()
            await asyncio.to_thread(sup.stop_all)
        r.seconds = time.perf_counter() - started
    return r


async def _key(db_url: str) -> str:
    """A key that may send the history's erasures too (``events:erase``)."""
    from churnwatch_api.store.keys import create_key
    from churnwatch_runtime.db import make_engine

    engine = make_engine(db_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            _, key = await create_key(conn, name="faults", scopes=["events:write", "events:erase"])
    finally:
        await engine.dispose()
    return key


async def _add_endpoint(db_url: str, url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("+asyncpg", ""))
    try:
        await conn.execute(
            "INSERT INTO webhook_endpoints (id, url, secret) VALUES ('crm', $1, 'faults-secret')",
            url,
        )
    finally:
        await conn.close()


async def _supervise(sup: Supervisor) -> None:
    while True:
        await asyncio.to_thread(sup.check)
        await asyncio.sleep(0.5)


async def _inject(r: Run, plan: list[tuple[int, str]]) -> None:
    for at, fault in plan:
        while r.feed.sent < at:
            await asyncio.sleep(0.1)
        t0 = time.perf_counter()
        await asyncio.to_thread(_fire, r, fault)
        r.feed.fired.append((r.feed.sent, fault, time.perf_counter() - t0))


def _fire(r: Run, fault: str) -> None:
    kind, what = fault.split(":")
    sup, down = r.sup, r.cfg.down_s
    if kind == "kill":
        with sup.lock:
            sup.kill(what)
            time.sleep(down)
            sup.start(what)
    elif fault == "restart:broker":
        r.cluster.restart_broker(down)
    elif fault == "restart:postgres":
        r.cluster.restart_postgres(down)
    elif kind == "join":
        with sup.lock:
            sup.start(what)
    elif kind == "leave":
        with sup.lock:
            sup.stop(what)
    else:  # receiver:<mode>, held for a while whatever fires next
        r.receiver.mode = what
        if what != "ok":
            time.sleep(4 * down)


async def _feed(r: Run, days: list[list[str]]) -> None:
    """Every event once to its path, in order; retried until acknowledged (module doc)."""
    import httpx

    from churnwatch_runtime.kafka import make_producer

    cfg, feed = r.cfg, r.feed
    headers = {"content-type": "application/json", "authorization": f"Bearer {r.key}"}
    base = f"http://127.0.0.1:{r.env['CW_INGEST_PORT']}"
    producer = make_producer(r.cluster.broker.bootstrap, linger_ms=20, request_timeout_ms=10_000)
    await producer.start()
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
            for lines in days:
                for lo in range(0, len(lines), cfg.post_size):
                    await _wait_backlog(r)
                    chunk = lines[lo : lo + cfg.post_size]
                    http: list[str] = []
                    raw: list[str] = []
                    for line in chunk:
                        customer = customer_of(line)
                        path = raw if zlib.crc32(customer.encode()) % cfg.raw_share == 0 else http
                        path.append(line)
                        feed.expected[customer] += 1
                        if '"event_type":"customer_erased"' in line:
                            feed.erased.add(customer)
                    if raw:
                        producer = await _produce(r, producer, raw)
                    if http:
                        await _post(r, client, http)
                    feed.sent += len(chunk)
    finally:
        await producer.stop()


async def _post(r: Run, client: Any, lines: list[str]) -> None:
    import httpx
    import orjson

    body = ("[" + ",".join(lines) + "]").encode()
    feed = r.feed
    while True:
        feed.http_posts += 1
        try:
            answer = await client.post("/v1/events", content=body)
        except httpx.TransportError:
            feed.http_status[0] += 1
        else:
            feed.http_status[answer.status_code] += 1
            if answer.status_code == 200:
                doc = orjson.loads(answer.content)
                feed.acknowledged["accepted"] += int(doc.get("accepted", 0))
                feed.acknowledged["duplicate"] += int(doc.get("duplicates", 0))
                return
            if answer.status_code not in (502, 503, 504, 500):
                raise RuntimeError(f"ingest answered {answer.status_code}: {answer.text[:400]}")
        feed.http_retries += 1
        await asyncio.sleep(0.5)


async def _produce(r: Run, producer: Any, lines: list[str]) -> Any:
    """Send to ``cw.events.raw`` and await every ack; on failure a new producer resends all."""
    from churnwatch_runtime.kafka import make_producer

    topic = r.topics["raw"]
    while True:
        try:
            acks = [
                await producer.send(topic, line.encode(), key=customer_of(line).encode())
                for line in lines
            ]
            await asyncio.gather(*acks)
            r.feed.acknowledged["raw"] += len(lines)
            return producer
        except Exception:
            r.feed.raw_retries += 1
            await asyncio.sleep(0.5)
            with contextlib.suppress(Exception):  # a broken producer may fail to stop
                await producer.stop()
            producer = make_producer(r.cluster.broker.bootstrap, linger_ms=20)
            try:
                await producer.start()
            except Exception:
                continue


async def _wait_backlog(r: Run) -> None:
    from bench.faults_check import scoring_behind

    while True:
        try:
            behind = await scoring_behind(r)
        except Exception:
            behind = None
        if behind is not None and behind <= r.cfg.max_backlog:
            return
        await asyncio.sleep(0.2)
