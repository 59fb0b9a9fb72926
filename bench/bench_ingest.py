"""Ingest: HTTP batches and single events into Kafka, and the Kafka-native raw → validated path.

Everything runs on this machine against a real broker and PostgreSQL started for the run (or the
ones named by ``CW_BENCH_KAFKA_BOOTSTRAP`` and ``CW_BENCH_DATABASE_URL``). The ingest service is
one real process (``python -m churnwatch_ingest http|raw``); the load generator is this process.
Ceilings measured in the same run, on the same records: aiokafka alone (acks=all, idempotent)
and Kafka's own ``ProducerPerformance`` (Java) from ``deploy/kafka/libs``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import time
from typing import Any

import httpx
import orjson

from bench.harness import Benchmark, Context, Metric, Reference, Target
from bench.infra import infra, ingest_key, service, service_available, wait_ready

BATCH = 500
CLIENTS = 4
SINGLE_RATE = 500  # requests per second, open loop
CUSTOMERS = 10_000
PARTITIONS = 6


def _available() -> str | None:
    return service_available("churnwatch_ingest.app", "churnwatch_ingest")


def _env(bootstrap: str, db_url: str, tag: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CW_KAFKA_BOOTSTRAP=bootstrap,
        DATABASE_URL=db_url,
        CW_TOPIC_PARTITIONS=str(PARTITIONS),
        CW_TOPIC_EVENTS=f"bench.{tag}.events",
        CW_TOPIC_EVENTS_RAW=f"bench.{tag}.raw",
        CW_TOPIC_EVENTS_DLQ=f"bench.{tag}.dlq",
        CW_INGEST_RAW_GROUP_ID=f"bench-{tag}",
        CW_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


# --- load -----------------------------------------------------------------------------------


def _events(n: int, prefix: str) -> list[dict[str, Any]]:
    """``n`` valid events of every type, unique ids, spread over ``CUSTOMERS`` customers."""
    from churnwatch.events import EXAMPLES

    templates = list(EXAMPLES.values())
    out = []
    for i in range(n):
        event = dict(templates[i % len(templates)])
        event["event_id"] = f"{prefix}-{i}"
        event["customer_id"] = f"C-{i % CUSTOMERS}"
        out.append(event)
    return out


async def _http_throughput(base: str, bodies: list[bytes], key: str) -> tuple[float, int]:
    """Batches of ``BATCH`` from ``CLIENTS`` concurrent clients; events/s acknowledged."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    accepted = 0

    async def client_loop() -> None:
        nonlocal accepted
        auth = {"authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=base, timeout=60, headers=auth) as client:
            while not queue.empty():
                body = queue.get_nowait()
                answer = await client.post(
                    "/v1/events", content=body, headers={"content-type": "application/json"}
                )
                if answer.status_code != 200:
                    raise RuntimeError(f"POST answered {answer.status_code}: {answer.text[:300]}")
                accepted += orjson.loads(answer.content)["accepted"]

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(CLIENTS)))
    wall = time.perf_counter() - started
    return accepted / wall, accepted


class _Conn:
    """A minimal HTTP/1.1 keep-alive client connection: a few microseconds per request.

    httpx costs about a millisecond of CPU per request; at 500 requests/s on two cores that
    load generator would compete with the service it measures.
    """

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str
    ) -> None:
        self.reader, self.writer, self.key = reader, writer, key

    @classmethod
    async def open(cls, host: str, port: int, key: str) -> _Conn:
        return cls(*await asyncio.open_connection(host, port), key)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: ingest\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {self.key}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return int(status_line.split()[1]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _http_latency(host: str, port: int, bodies: list[bytes], key: str) -> list[float]:
    """Single-event POSTs on an open-loop schedule of ``SINGLE_RATE``/s; ms from the schedule.

    Measuring from the scheduled time (not the send) counts any queueing in the client too, so
    a stalled server cannot hide behind fewer requests (no coordinated omission).
    """
    latencies: list[float] = []
    idle: asyncio.Queue[_Conn] = asyncio.Queue()
    conns = [await _Conn.open(host, port, key) for _ in range(64)]
    for conn in conns:
        idle.put_nowait(conn)

    async def one(body: bytes, due: float) -> None:
        conn = await idle.get()
        try:
            status, answer = await conn.post("/v1/events", body)
        finally:
            idle.put_nowait(conn)
        if status != 200:
            raise RuntimeError(f"POST answered {status}: {answer[:300]!r}")
        latencies.append((time.perf_counter() - due) * 1000)

    tasks = []
    start = time.perf_counter() + 0.1
    for i, body in enumerate(bodies):
        due = start + i / SINGLE_RATE
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(one(body, due)))
    await asyncio.gather(*tasks)
    for conn in conns:
        conn.close()
    return latencies


async def _produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> float:
    """aiokafka alone, acks=all + idempotent (``make_producer``): records/s acknowledged."""
    from churnwatch_runtime.kafka import make_producer

    producer = make_producer(bootstrap)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        await asyncio.gather(*futures)
        return len(records) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def _end_total(bootstrap: str, topic: str) -> int:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return int(sum((await consumer.end_offsets(parts)).values()))
    finally:
        await consumer.stop()


async def _raw_throughput(bootstrap: str, topic: str, n: int, timeout: float) -> float:
    """Rate at which validated records reach ``topic``, from the first one seen to the last."""
    first: tuple[float, int] | None = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        total = await _end_total(bootstrap, topic)
        now = time.perf_counter()
        if total and first is None:
            first = (now, total)
        if total >= n and first is not None:
            return (n - first[1]) / (now - first[0]) if now > first[0] else float("nan")
        await asyncio.sleep(0.1)
    raise RuntimeError(f"only {total} of {n} validated records after {timeout:.0f}s")


def _java_ceiling(ctx: Context, bootstrap: str, topic: str, payloads: list[bytes]) -> float | None:
    """Kafka's ProducerPerformance (acks=all, idempotent) with the same payloads; records/s."""
    libs = ctx.root / "deploy" / "kafka" / "libs"
    if shutil.which("java") is None or not libs.exists():
        return None
    payload_file = ctx.workdir / "payloads.txt"
    payload_file.write_bytes(b"\n".join(payloads[:10_000]))
    cmd = [
        "java", "-Xmx512m", "-cp", f"{libs}/*", "org.apache.kafka.tools.ProducerPerformance",
        "--topic", topic, "--num-records", str(len(payloads)), "--throughput", "-1",
        "--payload-file", str(payload_file),
        "--producer-props", f"bootstrap.servers={bootstrap}", "acks=all",
        "enable.idempotence=true", "linger.ms=5",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    found = re.findall(r"records sent, ([\d.]+) records/sec", done.stdout)
    return float(found[-1]) if found else None


# --- the benchmark --------------------------------------------------------------------------


def _run(ctx: Context) -> list[Metric]:
    with infra(ctx) as (bootstrap, db_url):
        return asyncio.run(_measure(ctx, bootstrap, db_url))


async def _measure(ctx: Context, bootstrap: str, db_url: str) -> list[Metric]:
    from churnwatch_runtime.infra._proc import free_port
    from churnwatch_runtime.kafka import ensure_topics

    run_id = f"{int(time.time())}"
    n_http = 40_000 if ctx.quick else 150_000
    n_single = SINGLE_RATE * (4 if ctx.quick else 10)
    n_raw = 50_000 if ctx.quick else 200_000

    # HTTP: batches of 500, then single events at 500/s, against one ingest process
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _env(
        bootstrap, db_url, f"http{run_id}", CW_INGEST_PORT=str(port), CW_INGEST_HOST="127.0.0.1"
    )
    events = _events(n_http, f"h{run_id}")
    bodies = [orjson.dumps(events[i : i + BATCH]) for i in range(0, n_http, BATCH)]
    singles = [orjson.dumps(e) for e in _events(n_single, f"s{run_id}")]
    with service(ctx, ["churnwatch_ingest", "http"], env, "ingest-http.log") as proc:
        await wait_ready(f"{base}/readyz", proc, timeout=60)
        key = await ingest_key(db_url)  # the key check is part of what is measured
        await _http_throughput(base, [orjson.dumps(_events(BATCH, f"w{run_id}"))], key)  # warm
        http_rate, accepted = await _http_throughput(base, bodies, key)
        latencies = await _http_latency("127.0.0.1", port, singles, key)
    if accepted != n_http:
        raise RuntimeError(f"{accepted} of {n_http} events accepted")

    # Kafka-native: the same kind of records on a raw topic, validated by one ingest process
    tag = f"raw{run_id}"
    raw_env = _env(bootstrap, db_url, tag)
    raw_topic, out_topic = raw_env["CW_TOPIC_EVENTS_RAW"], raw_env["CW_TOPIC_EVENTS"]
    ceiling_topic = f"bench.{tag}.ceiling"
    java_topic = f"bench.{tag}.java"
    await ensure_topics(
        bootstrap,
        [raw_topic, out_topic, raw_env["CW_TOPIC_EVENTS_DLQ"], ceiling_topic, java_topic],
        partitions=PARTITIONS,
    )
    raw_events = _events(n_raw, f"r{run_id}")
    records = [(e["customer_id"].encode(), orjson.dumps(e)) for e in raw_events]
    await _produce(bootstrap, raw_topic, records)
    aiokafka_rate = await _produce(bootstrap, ceiling_topic, records)
    with service(ctx, ["churnwatch_ingest", "raw"], raw_env, "ingest-raw.log"):
        raw_rate = await _raw_throughput(bootstrap, out_topic, n_raw, timeout=600)
    java_rate = _java_ceiling(ctx, bootstrap, java_topic, [v for _, v in records])

    ceiling = Reference(
        "aiokafka alone, acks=all idempotent, same records", round(aiokafka_rate), "events/s"
    )
    java = (
        f"; Kafka's ProducerPerformance (Java, same payloads, acks=all, idempotent) reached "
        f"{java_rate:,.0f} records/s in the same run"
        if java_rate
        else ""
    )
    lat = sorted(latencies)
    p50, p99 = statistics.median(lat), lat[int(0.99 * (len(lat) - 1))]
    where = (
        f"one ingest process (uvicorn), with Kafka, PostgreSQL and the load generator on the "
        f"same {os.cpu_count()}-core machine"
    )
    command = "python -m bench --only ingest"
    http_notes = (
        f"{n_http:,} events in batches of {BATCH} from {CLIENTS} concurrent httpx clients; every "
        f"event validated, recorded for idempotency and acknowledged by Kafka (acks=all); {where}"
    )
    latency_notes = (
        f"{n_single:,} single-event POSTs on an open-loop schedule of {SINGLE_RATE}/s over 64 "
        f"keep-alive connections, latency from the scheduled send to the 200 (p50 {p50:.1f} ms); "
        f"{where}"
    )
    raw_notes = (
        f"{n_raw:,} records validated from a raw topic to a validated one by `python -m "
        f"churnwatch_ingest raw` (idempotency store on), rate from the first to the last output"
    )
    return [
        Metric(
            "ingest_http_events_per_s",
            round(http_rate),
            "events/s",
            command,
            ceiling=ceiling,
            target=Target(">=", 10_000),
            notes=http_notes + java + ".",
        ),
        Metric("ingest_http_p99_ms", round(p99, 1), "ms", command, notes=latency_notes + "."),
        Metric(
            "ingest_kafka_events_per_s",
            round(raw_rate),
            "events/s",
            command,
            ceiling=ceiling,
            target=Target(">=", 20_000),
            notes=raw_notes + java + ".",
        ),
    ]


BENCHMARKS = [
    Benchmark(
        name="ingest",
        run=_run,
        available=_available,
        description="ingest: HTTP batches and single events, and raw → validated, into Kafka",
    )
]
