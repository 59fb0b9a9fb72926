"""The live stream through a real HTTP server (uvicorn on a free port): band changes and task
steps arrive as server-sent events, and a client resuming with Last-Event-ID gets what it
missed. (httpx's in-process transport waits for a response to end, so a stream needs a server.)"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_api import ApiSettings, create_app
from tests.integration.api.conftest import MakeKey
from tests.integration.api.seed import T0, add_tasks, task_row
from tests.integration.api.support import bearer

pytestmark = pytest.mark.integration


@pytest.fixture
async def server(api_settings: ApiSettings) -> AsyncIterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(api_settings), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="on")  # fmt: skip
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    while not srv.started:
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    await asyncio.wait_for(task, 30)


async def band_change(engine: AsyncEngine, customer: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO score_history (customer_id, event_time, churn_probability, band,"
                " previous_band, clv, value_at_risk, model_version, why)"
                " VALUES (:c, :t, 0.8, 'critical', 'high', 1000, 800, 'm', 'band_change')"
            ),
            {"c": customer, "t": T0},
        )


async def events(lines: AsyncIterator[str], n: int) -> list[tuple[str, str, dict[str, object]]]:
    """The next ``n`` events as (id, event, data); comments skipped."""
    out: list[tuple[str, str, dict[str, object]]] = []
    fields: dict[str, str] = {}
    async for line in lines:
        if line.startswith(":"):
            continue
        if not line:
            if "event" in fields:
                out.append((fields["id"], fields["event"], orjson.loads(fields["data"])))
                if len(out) == n:
                    return out
            fields = {}
            continue
        name, _, value = line.partition(": ")
        fields[name] = value
    return out


async def test_live_stream_and_resume(
    server: str, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    key = bearer(await make_key(["read"]))
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        assert (await client.get("/v1/live")).status_code == 401
        forbidden = await client.get("/v1/live", headers=bearer(await make_key(["tasks:write"])))
        assert forbidden.status_code == 403

        async with client.stream("GET", "/v1/live", headers=key) as live:
            assert live.headers["content-type"].startswith("text/event-stream")
            lines = live.aiter_lines()
            assert (await anext(lines)).startswith(": live since")
            await band_change(api_engine, "C-1")
            await add_tasks(api_engine, task_row("T-1", "C-1"))
            got = await asyncio.wait_for(events(lines, 2), 20)
        (first_id, kind1, data1), (_, kind2, data2) = got
        assert (kind1, data1["customer_id"], data1["band"]) == ("band_change", "C-1", "critical")
        assert (kind2, data2["task_id"], data2["to_state"]) == ("task", "T-1", "open")

        # missed while away: a second band change; resuming after the first event gets the task
        # step and the new change, not the first event again
        await band_change(api_engine, "C-2")
        async with client.stream(
            "GET", "/v1/live", headers={**key, "Last-Event-ID": first_id}
        ) as again:
            resumed = await asyncio.wait_for(events(again.aiter_lines(), 2), 20)
        assert sorted((k, str(d.get("task_id") or d["customer_id"])) for _, k, d in resumed) == [
            ("band_change", "C-2"), ("task", "T-1")]  # fmt: skip


async def test_a_new_listener_gets_no_past_changes(
    server: str, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    """Changes committed before anyone listened are old news: the first event a new listener
    gets is the first change after it joined (the poller's re-read window once re-sent them)."""
    for i in range(5):
        await band_change(api_engine, f"C-OLD-{i}")
    key = bearer(await make_key(["read"]))
    async with (
        httpx.AsyncClient(base_url=server, timeout=30) as client,
        client.stream("GET", "/v1/live", headers=key) as live,
    ):
        lines = live.aiter_lines()
        assert (await anext(lines)).startswith(": live since")
        await band_change(api_engine, "C-NEW")
        [(_, kind, data)] = await asyncio.wait_for(events(lines, 1), 20)
    assert (kind, data["customer_id"]) == ("band_change", "C-NEW")
