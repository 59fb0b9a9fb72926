"""/metrics of the worker services (scoring, alerts) needs a key with read; the probes stay open.

The same key store as the API's (``churnwatch_runtime.auth``); a real, unstarted worker on the
migrated database gives the status ``/readyz`` reports.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_runtime.auth import Authenticator
from churnwatch_runtime.worker import Worker
from churnwatch_runtime.worker.http import health_app
from tests.integration.api.conftest import MakeKey
from tests.integration.worker.counter_worker import CounterProcessor
from tests.support.infra import Broker

pytestmark = pytest.mark.integration


async def test_worker_metrics_need_read_and_probes_reveal_nothing(
    api_engine: AsyncEngine, make_key: MakeKey, kafka: Broker
) -> None:
    worker = Worker(
        api_engine, CounterProcessor("t.out"), bootstrap=kafka.bootstrap, topics=["t"], group_id="g"
    )
    app = health_app(
        "churnwatch test", worker, lambda: b"cw_x_total 1.0\n", auth=Authenticator(api_engine)
    )
    reader, writer = await make_key(["read"]), await make_key(["events:write"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        anonymous = await client.get("/metrics")
        forged = await client.get("/metrics", headers={"Authorization": "Bearer cwk_nope"})
        wrong = await client.get("/metrics", headers={"Authorization": f"Bearer {writer}"})
        ok = await client.get("/metrics", headers={"Authorization": f"Bearer {reader}"})
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert (anonymous.status_code, forged.status_code, wrong.status_code) == (401, 401, 403)
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert "read" in wrong.json()["detail"]
    assert ok.status_code == 200
    assert ok.text == "cw_x_total 1.0\n"
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 503  # not started; the body names no secret, key or customer
    assert reader not in ready.text
    assert "postgresql" not in ready.text
