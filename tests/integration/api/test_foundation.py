"""The app's foundation: probes, metrics behind a key, one error shape for everything."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.api.conftest import MakeKey
from tests.integration.api.support import bearer

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


async def test_probes_need_no_key(api_client: httpx.AsyncClient) -> None:
    assert (await api_client.get("/healthz")).json() == {"status": "ok"}
    ready = await api_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_metrics_need_read(api_client: httpx.AsyncClient, make_key: MakeKey) -> None:
    assert (await api_client.get("/metrics")).status_code == 401
    events_only = await make_key(["events:write"])
    denied = await api_client.get("/metrics", headers=bearer(events_only))
    assert denied.status_code == 403
    for scopes in (["read"], ["admin"]):
        ok = await api_client.get("/metrics", headers=bearer(await make_key(scopes)))
        assert ok.status_code == 200
        assert "cw_api_requests_total" in ok.text
    # route templates only: no raw path, so no id can become a label value
    assert 'route="/metrics"' in ok.text


async def test_unknown_path_is_a_problem(api_client: httpx.AsyncClient) -> None:
    r = await api_client.get("/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == 404
    assert body["instance"] == "/v1/nothing-here"
    assert set(body) >= {"type", "title", "status", "detail", "instance"}


async def test_wrong_method_is_a_problem(api_client: httpx.AsyncClient) -> None:
    r = await api_client.put("/v1/me")
    assert r.status_code == 405
    assert r.headers["content-type"] == PROBLEM
    assert "PUT is not allowed" in r.json()["detail"]


async def test_validation_errors_name_the_field(
    api_client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    admin = bearer(await make_key(["admin"]))
    r = await api_client.post(
        "/v1/keys", headers=admin, json={"name": "x", "scopes": ["read", "tasks:wrte"]}
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    errors = r.json()["errors"]
    assert errors[0]["field"] == "body.scopes"
    assert "tasks:wrte" in errors[0]["message"]
    missing = await api_client.post("/v1/keys", headers=admin, json={"scopes": ["read"]})
    assert missing.json()["errors"] == [{"field": "body.name", "message": "Field required"}]


async def test_security_headers(api_client: httpx.AsyncClient) -> None:
    r = await api_client.get("/healthz")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
