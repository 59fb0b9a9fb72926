"""Requests a careless or hostile client sends: each answered with problem details, never a 500.

Unknown paths and methods, malformed cursors, huge limits, bodies that are not UTF-8 JSON, NUL
characters, and SQL in every string query parameter (harmless: every query is parameterised).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_alerts import seed_defaults
from churnwatch_api.problems import MEDIA_TYPE
from tests.integration.api.conftest import MakeKey
from tests.integration.api.seed import add_scores, add_tasks, scalar, score_row, task_row
from tests.integration.api.support import bearer

pytestmark = pytest.mark.integration

INJECTIONS = ["' OR '1'='1", "x'; DROP TABLE latest_scores; --", 'C-1042" OR 1=1 --', "%' --"]


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == MEDIA_TYPE
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    return body


async def test_unknown_path_and_wrong_method(api_client: httpx.AsyncClient) -> None:
    missing = problem(await api_client.get("/v1/nope"), 404)
    assert missing["instance"] == "/v1/nope"
    wrong = problem(await api_client.put("/v1/at-risk"), 405)
    assert "PUT" in wrong["detail"]


async def test_cursors_limits_and_bodies(api_client: httpx.AsyncClient, make_key: MakeKey) -> None:
    admin = bearer(await make_key(["admin"]))
    for path in ("/v1/at-risk", "/v1/tasks", "/v1/customers/C-1/timeline"):
        for cursor in ("garbage!", "WyJ4Il0", "e30"):  # not base64; ["x"]; {}
            bad = problem(await api_client.get(path, headers=admin, params={"cursor": cursor}), 422)
            assert [e["field"] for e in bad["errors"]] == ["query.cursor"]
        huge = problem(await api_client.get(path, headers=admin, params={"limit": 10**9}), 422)
        assert [e["field"] for e in huge["errors"]] == ["query.limit"]

    post = {**admin, "Content-Type": "application/json"}
    not_utf8 = await api_client.post("/v1/agents", headers=post, content=b'{"agent_id": "\xff"}')
    assert [e["field"] for e in problem(not_utf8, 422)["errors"]] == ["body"]
    not_json = problem(await api_client.post("/v1/agents", headers=post, content=b"agent"), 422)
    assert not_json["errors"][0]["field"].startswith("body")
    as_text = {**admin, "Content-Type": "text/plain"}
    plain = await api_client.post("/v1/agents", headers=as_text, content=b'{"agent_id": "A"}')
    assert plain.status_code in (415, 422)
    assert plain.headers["content-type"] == MEDIA_TYPE
    nul = await api_client.post(
        "/v1/agents", headers=admin, json={"agent_id": "A\x00", "team": "s"}
    )
    assert [e["field"] for e in problem(nul, 422)["errors"]] == ["body.agent_id"]
    nul_q = await api_client.get("/v1/tasks", headers=admin, params={"team": "save\x00"})
    assert [e["field"] for e in problem(nul_q, 422)["errors"]] == ["query.team"]
    nul_path = problem(await api_client.get("/v1/customers/C%00", headers=admin), 422)
    assert [e["field"] for e in nul_path["errors"]] == ["path.customer_id"]
    version = await api_client.get("/v1/playbooks/p", headers=admin, params={"version": 2**31})
    assert [e["field"] for e in problem(version, 422)["errors"]] == ["query.version"]


async def test_sql_in_every_query_parameter_is_only_data(
    api_client: httpx.AsyncClient, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    async with api_engine.begin() as conn:
        await seed_defaults(conn)
    await add_scores(api_engine, score_row("C-1042"), score_row("C-1043"))
    await add_tasks(api_engine, task_row("T-1", "C-1042"))
    admin = bearer(await make_key(["admin", "pii:read"]))
    spec = (await api_client.get("/openapi.json")).json()
    tried = 0
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None or path == "/v1/live" or "{" in path:
            continue
        for param in get.get("parameters", []):
            if param["in"] != "query" or "string" not in str(param["schema"]):
                continue
            for attack in INJECTIONS:
                r = await api_client.get(path, headers=admin, params={param["name"]: attack})
                tried += 1
                assert r.status_code < 500, (path, param["name"], attack, r.text)
                if r.status_code == 200 and path in ("/v1/at-risk", "/v1/tasks"):
                    assert r.json()["items"] == [], (path, param["name"], attack)
    assert tried >= 6 * len(INJECTIONS)  # q, cursor×3, playbook, team, agent, customer, …
    for table in ("latest_scores", "tasks", "api_keys"):
        assert await scalar(api_engine, f"SELECT count(*) FROM {table}") > 0
    for attack in INJECTIONS:  # the search matches ids as text: no customer has these
        found = await api_client.get("/v1/customers", headers=admin, params={"q": attack})
        assert found.json()["items"] == []
