"""Webhook delivery against a real local HTTP receiver: retries until it recovers, each action
arrives exactly once successfully with a valid signature, two dispatchers never double-deliver,
and an endpoint that never recovers is dead-lettered with its last error."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_alerts import AlertsMetrics, WebhookConfig, WebhookDispatcher
from tests.integration.alerts.support import Receiver, add_endpoint, rows, serve

pytestmark = pytest.mark.integration
ACTIONS = 40


async def add_deliveries(engine: AsyncEngine, n: int) -> dict[str, bytes]:
    """Rows as the processor writes them: one per action and enabled endpoint."""
    bodies = {f"act-{i}": orjson.dumps({"action_id": f"act-{i}", "n": i}) for i in range(n)}
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO webhook_deliveries (action_id, endpoint_id, body, status, attempts,"
                " next_attempt_at, created_at) SELECT :a, e.id, :b, 'pending', 0, now(), now()"
                " FROM webhook_endpoints e WHERE e.enabled"
            ),
            [{"a": a, "b": b} for a, b in bodies.items()],
        )
    return bodies


async def until_settled(engine: AsyncEngine, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = await rows(engine, "SELECT count(*) AS n FROM webhook_deliveries"
                          " WHERE status = 'pending'")  # fmt: skip
        if left[0]["n"] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("deliveries still pending")


async def test_a_failing_then_recovering_receiver_gets_each_action_once(db: AsyncEngine) -> None:
    good = Receiver(secret="good-secret", fail_first=2)
    bad = Receiver(secret="bad-secret", always_fail=True)
    with serve(good) as good_url, serve(bad) as bad_url:
        await add_endpoint(db, "crm", good_url, good.secret)
        await add_endpoint(db, "broken", bad_url, bad.secret)
        bodies = await add_deliveries(db, ACTIONS)
        cfg = WebhookConfig(batch=7, max_attempts=4, backoff_base=0.02, backoff_cap=0.2,
                            poll_interval=0.02, timeout=5)  # fmt: skip
        metrics = AlertsMetrics()
        dispatchers = [WebhookDispatcher(db, cfg, metrics) for _ in range(2)]  # two instances
        stop = asyncio.Event()
        running = [asyncio.create_task(d.run(stop)) for d in dispatchers]
        try:
            await until_settled(db)
        finally:
            stop.set()
            await asyncio.gather(*running)

    assert good.delivered() == {a: 1 for a in bodies}  # exactly once each, after 2 failures
    assert all(ok for _, _, ok, _ in good.requests)  # every signature verified
    assert {a: body for a, _, _, body in good.requests} == bodies
    assert len(good.requests) == 3 * ACTIONS  # no double POST by the two dispatchers
    assert len(bad.requests) == 4 * ACTIONS  # max_attempts, then no more

    result = await rows(db, "SELECT endpoint_id, status, attempts, last_error, delivered_at"
                            " FROM webhook_deliveries")  # fmt: skip
    crm = [r for r in result if r["endpoint_id"] == "crm"]
    broken = [r for r in result if r["endpoint_id"] == "broken"]
    assert {(r["status"], r["attempts"]) for r in crm} == {("delivered", 3)}
    assert all(r["delivered_at"] is not None for r in crm)
    assert {(r["status"], r["attempts"]) for r in broken} == {("dead", 4)}
    assert all(r["last_error"].startswith("HTTP 500") for r in broken)
    samples = {s.labels["result"]: s.value for m in metrics.registry.collect()
               for s in m.samples if s.name == "cw_alerts_webhook_deliveries_total"}  # fmt: skip
    assert samples == {"ok": ACTIONS, "retry": 2 * ACTIONS + 3 * ACTIONS, "dead": ACTIONS}


async def test_an_unreachable_endpoint_records_the_connection_error(db: AsyncEngine) -> None:
    from churnwatch_runtime.infra._proc import free_port

    await add_endpoint(db, "gone", f"http://127.0.0.1:{free_port()}/hook", "s")
    await add_deliveries(db, 1)
    cfg = WebhookConfig(max_attempts=2, backoff_base=0.01, backoff_cap=0.01, poll_interval=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(WebhookDispatcher(db, cfg).run(stop))
    try:
        await until_settled(db)
    finally:
        stop.set()
        await task
    [row] = await rows(db, "SELECT status, attempts, last_error FROM webhook_deliveries")
    assert (row["status"], row["attempts"]) == ("dead", 2)
    assert "ConnectError" in row["last_error"]
