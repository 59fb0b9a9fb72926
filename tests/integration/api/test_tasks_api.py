"""The task queue and task work over HTTP, agents, and the backlog assignment, on the real
database: every step audited with the key's actor, refusals as problem details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_alerts import agents as ag
from churnwatch_api.paging import encode_cursor
from tests.integration.api.conftest import MakeKey
from tests.integration.api.seed import HOUR, add_tasks, scalar, task_row
from tests.integration.api.support import bearer

pytestmark = pytest.mark.integration


async def test_scopes(api_client: httpx.AsyncClient, make_key: MakeKey) -> None:
    reader = bearer(await make_key(["read"]))
    writer = bearer(await make_key(["tasks:write"]))
    for path in ("/v1/tasks", "/v1/tasks/T-1", "/v1/agents"):
        assert (await api_client.get(path)).status_code == 401
        assert (await api_client.get(path, headers=writer)).status_code == 403
    for step in ("claim", "release", "start"):
        r = await api_client.post(f"/v1/tasks/T-1/{step}", headers=reader)
        assert r.status_code == 403
        assert "tasks:write" in r.json()["detail"]
    for method, path in (("POST", "/v1/agents"), ("PATCH", "/v1/agents/A-1"),
                         ("POST", "/v1/agents/A-1/deactivate"),
                         ("POST", "/v1/tasks/assign-unassigned")):  # fmt: skip
        r = await api_client.request(method, path, headers=writer, json={})
        assert r.status_code == 403, path
        assert "admin" in r.json()["detail"]


async def test_queue_work_and_audit(
    api_client: httpx.AsyncClient, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    now = datetime.now(UTC)
    await ag.add_agent(api_engine, "A-1", "save", max_open=5)
    await ag.add_agent(api_engine, "B-1", "billing", max_open=5)
    await add_tasks(api_engine,
        task_row("T-late", "C-1", priority=3.0, created=now - 30 * HOUR, due=now - 22 * HOUR),
        task_row("T-due", "C-2", priority=2.0, created=now - HOUR, due=now + 7 * HOUR),
        task_row("T-bill", "C-3", priority=1.0, team="billing", created=now - HOUR,
                 due=now + 7 * HOUR),
    )  # fmt: skip
    reader = bearer(await make_key(["read"]))
    agent = bearer(await make_key(["read", "tasks:write"], name="laptop", agent_id="A-1"))
    lead = bearer(await make_key(["tasks:write"], name="lead"))

    queue = (await api_client.get("/v1/tasks", params={"team": "save"}, headers=reader)).json()
    assert [(t["task_id"], t["overdue"]) for t in queue["items"]] == [
        ("T-late", True), ("T-due", False)]  # fmt: skip
    late = await api_client.get("/v1/tasks", params={"overdue": "true"}, headers=reader)
    assert [t["task_id"] for t in late.json()["items"]] == ["T-late"]
    first = (await api_client.get("/v1/tasks", params={"limit": 1}, headers=reader)).json()
    rest = (await api_client.get("/v1/tasks", headers=reader,
            params={"limit": 5, "cursor": first["next_cursor"]})).json()  # fmt: skip
    assert [t["task_id"] for t in first["items"] + rest["items"]] == ["T-late", "T-due", "T-bill"]
    assert rest["next_cursor"] is None

    claimed = await api_client.post("/v1/tasks/T-late/claim", headers=agent)
    assert claimed.status_code == 200
    assert (claimed.json()["state"], claimed.json()["assignee"]) == ("assigned", "A-1")
    mine = await api_client.get("/v1/tasks", params={"agent": "A-1"}, headers=reader)
    assert [t["task_id"] for t in mine.json()["items"]] == ["T-late"]
    started = await api_client.post("/v1/tasks/T-late/start", headers=agent)
    assert started.json()["overdue"] is False  # the first contact happened (late)
    assert started.json()["in_sla"] is False
    outcome = {"outcome": "won", "note": "kept on a discount"}
    closed = await api_client.post("/v1/tasks/T-late/close", headers=agent, json=outcome)
    assert (closed.json()["state"], closed.json()["outcome"]) == ("won", "won")
    shown = (await api_client.get("/v1/tasks/T-late", headers=reader)).json()
    steps = [(a["from_state"], a["to_state"], a["actor"], a["note"]) for a in shown["audit"]]
    assert steps == [(None, "open", "alerts", None), ("open", "assigned", "A-1", None),
                     ("assigned", "in_progress", "A-1", None),
                     ("in_progress", "won", "A-1", "kept on a discount")]  # fmt: skip
    assert await scalar(api_engine, "SELECT outcome FROM treatments WHERE action_id = 'T-late'") \
        == "won"  # fmt: skip

    # refusals: wrong team, closed task, unknown task and agent, a key without an agent
    wrong = await api_client.post("/v1/tasks/T-bill/assign", headers=lead, json={"agent_id": "A-1"})
    assert wrong.status_code == 409
    assert "billing" in wrong.json()["detail"]
    again = await api_client.post("/v1/tasks/T-late/start", headers=agent)
    assert again.status_code == 409
    assert (await api_client.post("/v1/tasks/T-none/start", headers=agent)).status_code == 404
    nobody = await api_client.post("/v1/tasks/T-due/assign", headers=lead, json={"agent_id": "Z"})
    assert nobody.status_code == 404
    assert (await api_client.post("/v1/tasks/T-due/claim", headers=lead)).status_code == 403
    bad = await api_client.post("/v1/tasks/T-due/close", headers=lead, json={"outcome": "maybe"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.outcome"

    assigned = await api_client.post("/v1/tasks/T-due/assign", headers=lead,
                                     json={"agent_id": "A-1", "actor": "someone-else"})  # fmt: skip
    assert assigned.status_code == 200
    released = await api_client.post("/v1/tasks/T-due/release", headers=lead)
    assert (released.json()["state"], released.json()["assignee"]) == ("open", None)
    actors = await scalar(api_engine, "SELECT string_agg(actor, ',' ORDER BY id) FROM task_audit"
                          " WHERE task_id = 'T-due'")  # fmt: skip
    assert actors == "alerts,lead,lead"  # the key's name, never a body's "actor"


async def test_agents_and_backlog(
    api_client: httpx.AsyncClient, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    t0 = datetime.now(UTC) - timedelta(days=2)
    await add_tasks(api_engine, *(task_row(f"T-{i}", f"C-{i}", priority=float(i), created=t0,
                                           due=t0 + 8 * HOUR) for i in range(1, 4)))  # fmt: skip
    admin = bearer(await make_key(["admin"], name="boss"))
    reader = bearer(await make_key(["read"]))

    new = {"agent_id": "A-9", "team": "save", "max_open": 2}
    added = await api_client.post("/v1/agents", headers=admin, json=new)
    assert added.status_code == 201
    body = added.json()
    assert body["assigned_tasks"] == ["T-3", "T-2"]  # the backlog, highest priority first
    assert body["load"] == 2
    dup = await api_client.post("/v1/agents", headers=admin, json={"agent_id": "A-9", "team": "x"})
    assert dup.status_code == 409
    invalid = await api_client.post("/v1/agents", headers=admin, json={"agent_id": "A 1"})
    assert {e["field"] for e in invalid.json()["errors"]} == {"body.agent_id", "body.team"}

    more = await api_client.patch("/v1/agents/A-9", headers=admin, json={"max_open": 5})
    assert more.json()["assigned_tasks"] == ["T-1"]
    listed = (await api_client.get("/v1/agents", headers=reader)).json()
    assert [(a["agent_id"], a["load"], a["active"]) for a in listed] == [("A-9", 3, True)]

    gone = await api_client.post("/v1/agents/A-9/deactivate", headers=admin)
    assert sorted(gone.json()["released_tasks"]) == ["T-1", "T-2", "T-3"]
    left = await api_client.post("/v1/tasks/assign-unassigned", headers=admin)
    assert left.json() == {"assigned": [], "left_open": 3}  # nobody active in the team
    await ag.add_agent(api_engine, "A-2", "save", max_open=1)
    given = await api_client.post("/v1/tasks/assign-unassigned", headers=admin)
    assert given.json() == {"assigned": [{"task_id": "T-3", "agent_id": "A-2"}], "left_open": 2}
    actor = await scalar(api_engine, "SELECT actor FROM task_audit WHERE task_id = 'T-3'"
                         " ORDER BY id DESC LIMIT 1")  # fmt: skip
    assert actor == "boss"
    assert (await api_client.patch("/v1/agents/nope", headers=admin, json={})).status_code == 404


async def test_queue_order_within_equal_priority(
    api_client: httpx.AsyncClient, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    """Equal priority: the most overdue first (earliest SLA due), then the oldest (created
    first), then the id; the same order when paged one task at a time (the cursor carries
    every key of the order)."""
    now = datetime.now(UTC)
    await add_tasks(api_engine,
        task_row("T-a", "C-a", priority=5.0, created=now - 2 * HOUR, due=now + 6 * HOUR),
        task_row("T-b", "C-b", priority=5.0, created=now - 50 * HOUR, due=now - 42 * HOUR),
        task_row("T-c", "C-c", priority=5.0, created=now - 30 * HOUR, due=now - 22 * HOUR),
        task_row("T-d", "C-d", priority=5.0, created=now - 31 * HOUR, due=now - 22 * HOUR),
        task_row("T-e", "C-e", priority=9.0, created=now - HOUR, due=now + 7 * HOUR),
        task_row("T-f", "C-f", priority=1.0, created=now - 90 * HOUR, due=now - 82 * HOUR),
        task_row("T-0", "C-0", priority=5.0, created=now - 31 * HOUR, due=now - 22 * HOUR),
    )  # fmt: skip
    reader = bearer(await make_key(["read"]))
    expected = ["T-e", "T-b", "T-0", "T-d", "T-c", "T-a", "T-f"]

    whole = (await api_client.get("/v1/tasks", headers=reader)).json()
    assert [t["task_id"] for t in whole["items"]] == expected
    assert [t["overdue"] for t in whole["items"]] == [False, True, True, True, True, False, True]
    paged: list[str] = []
    cursor = None
    for _ in range(len(expected) + 1):
        params: dict[str, str | int] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await api_client.get("/v1/tasks", params=params, headers=reader)).json()
        paged += [t["task_id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == expected
    old = encode_cursor("tasks", 5.0, now, "T-1")  # a cursor of the three-key order: refused
    refused = await api_client.get("/v1/tasks", params={"cursor": old}, headers=reader)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "query.cursor"


async def test_queue_contact_details_only_with_pii_read_and_audited(
    api_client: httpx.AsyncClient, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    now = datetime.now(UTC)
    await add_tasks(api_engine,
        task_row("T-1", "C-1", priority=3.0, created=now - HOUR, due=now + 7 * HOUR),
        task_row("T-2", "C-2", priority=2.0, created=now - HOUR, due=now + 7 * HOUR),
        task_row("T-3", "C-3", priority=1.0, created=now - HOUR, due=now + 7 * HOUR),
    )  # fmt: skip
    async with api_engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO customer_directory (customer_id, name, email, phone, updated_at)"
                 " VALUES ('C-1', 'Jana Novak', 'jana@example.com', '+49 30 1234567', :t),"
                 " ('C-2', NULL, 'ole@example.com', NULL, :t)"),
            {"t": now},
        )  # fmt: skip
    plain = bearer(await make_key(["read"]))
    pii = bearer(await make_key(["read", "pii:read"], name="caller"))
    audit_sql = ("SELECT coalesce(string_agg(action || ':' || target || ':' || actor, ','"
                 " ORDER BY target), '') FROM api_audit WHERE action LIKE 'pii.%'")  # fmt: skip

    hidden = await api_client.get("/v1/tasks", headers=plain)
    assert hidden.status_code == 200
    assert [t["task_id"] for t in hidden.json()["items"]] == ["T-1", "T-2", "T-3"]
    assert all("contact" not in t for t in hidden.json()["items"])  # absent, not empty
    assert "Novak" not in hidden.text
    assert "+49" not in hidden.text
    assert await scalar(api_engine, audit_sql) == ""

    shown = (await api_client.get("/v1/tasks", headers=pii)).json()
    assert [t["contact"] for t in shown["items"]] == [
        {"name": "Jana Novak", "email": "jana@example.com", "phone": "+49 30 1234567"},
        {"name": None, "email": "ole@example.com", "phone": None},
        None,  # nothing in the directory for C-3
    ]
    assert await scalar(api_engine, audit_sql) == "pii.queue:C-1:caller,pii.queue:C-2:caller"

    # erased: the directory row is gone, so the queue shows (and audits) nothing for C-1
    admin = bearer(await make_key(["admin"], name="dpo"))
    assert (await api_client.delete("/v1/customers/C-1", headers=admin)).status_code == 200
    page = (await api_client.get("/v1/tasks", params={"limit": 1}, headers=pii)).json()
    assert [(t["task_id"], t["contact"]) for t in page["items"]] == [("T-1", None)]
    assert await scalar(api_engine, "SELECT count(*) FROM api_audit WHERE action = 'pii.queue'"
                        " AND target = 'C-1'") == 1  # fmt: skip
    # the page's customers only: the one-more row that tells a next page exists is not read
    assert await scalar(api_engine, "SELECT count(*) FROM api_audit WHERE action = 'pii.queue'"
                        " AND target = 'C-2'") == 1  # fmt: skip
