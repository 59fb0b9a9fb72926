"""Helpers for the alerts integration tests: profiles and scores in, a webhook receiver out."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.profile import CustomerProfile
from churnwatch_alerts import (
    ACTION_ID_HEADER,
    SIGNATURE_HEADER,
    AlertsConfig,
    AlertsProcessor,
    PlanConfig,
    seed_defaults,
    verify,
)
from churnwatch_runtime.kafka import make_producer
from churnwatch_runtime.worker import MSG_ID_HEADER, OutboxRelay, Worker, WorkerConfig
from tests.integration.scoring.support import consumed

T0 = datetime(2026, 3, 10, tzinfo=UTC)


def consenting(**kw: Any) -> CustomerProfile:
    return CustomerProfile(consent_phone=1, consent_phone_at=1, consent_email=1,
                           consent_email_at=1, **kw)  # fmt: skip


def score(customer: str, hours: float, n: int, **overrides: Any) -> dict[str, Any]:
    """A ``cw.scores`` document (as scoring writes it); ``n`` names its causing event."""
    doc: dict[str, Any] = {
        "customer_id": customer, "churn_probability": 0.5, "band": "high",
        "reasons": [{"feature": "nps_score", "text": "NPS 3", "weight": 0.4}],
        "clv": 1000.0, "clv_low": None, "clv_high": None, "tier": "platinum",
        "lifecycle_stage": "at_risk", "rfm_segment": None, "value_at_risk": 500.0,
        "business_model": "retail", "model_version": "prior-v1",
        "event_time": (T0 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z"),
        "cause": "event", "cause_event_id": f"{customer}-e{n}",
    }  # fmt: skip
    doc.update(overrides)
    return doc


def msg_id(doc: dict[str, Any]) -> str:
    return f"score:{doc['customer_id']}:{doc['cause_event_id']}"


async def prepare(engine: AsyncEngine, profiles: dict[str, CustomerProfile]) -> None:
    """Default playbooks and the customers' profiles, as scoring would have stored them."""
    async with engine.begin() as conn:
        await seed_defaults(conn)
        if profiles:
            await conn.execute(
                text(
                    "INSERT INTO customer_profiles (customer_id, partition, state, updated_at)"
                    " VALUES (:c, 0, :s, now())"
                ),
                [{"c": c, "s": p.to_bytes()} for c, p in profiles.items()],
            )


async def add_endpoint(engine: AsyncEngine, endpoint: str, url: str, secret: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO webhook_endpoints (id, url, secret) VALUES (:i, :u, :s)"),
            {"i": endpoint, "u": url, "s": secret},
        )


async def produce_scores(bootstrap: str, topic: str, docs: Iterable[dict[str, Any]]) -> int:
    producer = make_producer(bootstrap, linger_ms=20)
    await producer.start()
    try:
        acks = [
            await producer.send(
                topic, orjson.dumps(d), key=d["customer_id"].encode(),
                headers=[(MSG_ID_HEADER, msg_id(d).encode())],
            )
            for d in docs
        ]  # fmt: skip
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    return len(acks)


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(text(sql), params)]


async def run_alerts(
    engine: AsyncEngine, *, bootstrap: str, topic: str, actions: str, group: str, total: int,
    timeout: float = 60,
) -> AlertsProcessor:  # fmt: skip
    """Worker + relay until ``total`` scores are consumed and the outbox is empty."""
    config = AlertsConfig(group_id=group, plan=PlanConfig(actions_topic=actions))
    processor = AlertsProcessor(config)
    worker = Worker(engine, processor, bootstrap=bootstrap, topics=[topic], group_id=group,
                    config=WorkerConfig(max_records=200, max_wait_ms=50))  # fmt: skip
    relay = OutboxRelay(engine, bootstrap)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in (worker, relay)]
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = (await rows(engine, "SELECT count(*) AS n FROM outbox"))[0]["n"]
            if await consumed(engine, group) >= total and left == 0:
                break
            for t in tasks:
                if t.done():
                    t.result()
            assert time.monotonic() < deadline, "alerts did not finish in time"
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    return processor


@dataclass
class Receiver:
    """A real HTTP endpoint: answers 500 to the first ``fail_first`` requests of each action,
    then 200; records every request and whether its signature verified."""

    secret: str
    fail_first: int = 0
    always_fail: bool = False
    requests: list[tuple[str, int, bool, bytes]] = field(default_factory=list)
    _tries: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, action: str, signature: str, body: bytes) -> int:
        ok = verify(self.secret, signature, body, now=time.time())
        with self._lock:
            self._tries[action] += 1
            fail = self.always_fail or self._tries[action] <= self.fail_first
            status = 500 if fail or not ok else 200
            self.requests.append((action, status, ok, body))
        return status

    def delivered(self) -> Counter[str]:
        return Counter(a for a, status, _, _ in self.requests if status == 200)


@contextmanager
def serve(receiver: Receiver) -> Iterator[str]:
    """Run ``receiver`` on a free local port in a thread; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = self.rfile.read(length)
            if len(body) < length:  # the sender died mid-request (a SIGKILL test): nothing
                return  # arrived to verify or answer; a real receiver drops it the same way
            status = receiver.handle(
                self.headers.get(ACTION_ID_HEADER, ""), self.headers.get(SIGNATURE_HEADER, ""),
                body,
            )  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the dispatcher posts a whole batch at once
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
