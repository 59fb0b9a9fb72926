"""Every way a request is admitted or refused: keys, scopes, revocation, sessions, limits, CORS."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_api import ApiSettings
from tests.integration.api.conftest import MakeKey
from tests.integration.api.support import bearer, client_for

pytestmark = pytest.mark.integration


async def test_no_key_is_401_with_a_problem(api_client: httpx.AsyncClient) -> None:
    r = await api_client.get("/v1/me")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in r.json()["detail"]


@pytest.mark.parametrize("key", ["nonsense", "cwk_0000000000_" + "A" * 43])
async def test_malformed_or_unknown_key_is_401(api_client: httpx.AsyncClient, key: str) -> None:
    r = await api_client.get("/v1/me", headers=bearer(key))
    assert r.status_code == 401
    assert "unknown, malformed or revoked" in r.json()["detail"]


async def test_wrong_scope_is_403_naming_it(
    api_client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key(["read", "tasks:write"], name="alice")
    me = await api_client.get("/v1/me", headers=bearer(key))
    assert me.status_code == 200
    assert me.json() == {
        "key_id": key.split("_")[1],
        "name": "alice",
        "actor": "alice",
        "agent_id": None,
        "scopes": ["read", "tasks:write"],
    }
    denied = await api_client.get("/v1/keys", headers=bearer(key))
    assert denied.status_code == 403
    assert denied.json()["detail"] == "this key lacks the scope admin"
    assert denied.json()["missing_scopes"] == ["admin"]


async def test_admin_implies_every_scope(api_client: httpx.AsyncClient, make_key: MakeKey) -> None:
    admin = bearer(await make_key(["admin"]))
    assert (await api_client.get("/v1/keys", headers=admin)).status_code == 200
    assert (await api_client.get("/metrics", headers=admin)).status_code == 200  # needs read


async def test_revoked_key_is_401_and_its_sessions_end(
    api_client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    admin = bearer(await make_key(["admin"], name="ops"))
    created = await api_client.post(
        "/v1/keys", headers=admin, json={"name": "laptop", "scopes": ["read"]}
    )
    assert created.status_code == 201
    key, key_id = created.json()["key"], created.json()["id"]
    assert (await api_client.post("/v1/session", json={"key": key})).status_code == 200
    assert (await api_client.get("/v1/me")).status_code == 200  # by the cookie
    gone = await api_client.delete(f"/v1/keys/{key_id}", headers=admin)
    assert gone.status_code == 204
    assert (await api_client.get("/v1/me", headers=bearer(key))).status_code == 401
    assert (await api_client.get("/v1/me")).status_code == 401  # the session ended with it
    listed = await api_client.get("/v1/keys?include_revoked=true", headers=admin)
    [row] = [k for k in listed.json() if k["id"] == key_id]
    assert row["revoked_at"] is not None
    assert "key" not in row
    assert (await api_client.delete(f"/v1/keys/{key_id}", headers=admin)).status_code == 204
    assert (await api_client.delete("/v1/keys/nope", headers=admin)).status_code == 404


async def test_session_cookie_login_and_logout(
    api_client: httpx.AsyncClient, make_key: MakeKey
) -> None:
    key = await make_key(["read"], name="bob")
    bad = await api_client.post("/v1/session", json={"key": "cwk_0000000000_" + "B" * 43})
    assert bad.status_code == 401
    login = await api_client.post("/v1/session", json={"key": key})
    assert login.status_code == 200
    assert login.json()["name"] == "bob"
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("cw_session=")
    for attribute in ("HttpOnly", "SameSite=strict", "Secure", "Path=/"):
        assert attribute in cookie
    assert key not in cookie  # the cookie is a session token, not the key
    me = await api_client.get("/v1/me")
    assert me.status_code == 200
    assert me.json()["name"] == "bob"
    out = await api_client.delete("/v1/session")
    assert out.status_code == 204
    assert "cw_session=" in out.headers["set-cookie"]
    assert "Max-Age=0" in out.headers["set-cookie"]
    assert (await api_client.get("/v1/me")).status_code == 401


async def test_sessions_stored_as_digests_and_cookie_secure_is_configurable(
    api_engine: AsyncEngine, api_settings: ApiSettings, make_key: MakeKey
) -> None:
    key = await make_key(["read"])
    plain_http = api_settings.model_copy(update={"cookie_secure": False})
    async with client_for(plain_http) as client:
        login = await client.post("/v1/session", json={"key": key})
    assert "Secure" not in login.headers["set-cookie"]
    token = login.cookies["cw_session"]
    async with api_engine.connect() as conn:
        ids = (await conn.execute(text("SELECT id FROM api_sessions"))).scalars().all()
    assert ids == [hashlib.sha256(token.encode()).hexdigest()]


async def test_keys_are_stored_only_as_digests(
    api_client: httpx.AsyncClient, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    admin = bearer(await make_key(["admin"], name="ops"))
    created = await api_client.post(
        "/v1/keys", headers=admin, json={"name": "ci", "scopes": ["events:write", "read"]}
    )
    key = created.json()["key"]
    secret = key.split("_", 2)[2]
    async with api_engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM api_keys"))).mappings().all()
        audit = (await conn.execute(text("SELECT * FROM api_audit"))).mappings().all()
    stored = " ".join(str(v) for row in [*rows, *audit] for v in row.values())
    assert secret not in stored
    [row] = [r for r in rows if r["name"] == "ci"]
    assert row["digest"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["scopes"] == ["events:write", "read"]
    assert [(a["actor"], a["action"], a["target"]) for a in audit] == [
        ("ops", "key.create", row["id"])
    ]


async def test_agent_keys_act_as_the_agent(
    api_client: httpx.AsyncClient, api_engine: AsyncEngine, make_key: MakeKey
) -> None:
    async with api_engine.begin() as conn:
        await conn.execute(text("INSERT INTO agents (agent_id, team) VALUES ('A-7', 'save-team')"))
    key = await make_key(["read", "tasks:write"], name="ann's laptop", agent_id="A-7")
    me = (await api_client.get("/v1/me", headers=bearer(key))).json()
    assert (me["actor"], me["agent_id"]) == ("A-7", "A-7")
    admin = bearer(await make_key(["admin"]))
    unknown = await api_client.post(
        "/v1/keys", headers=admin, json={"name": "x", "scopes": ["read"], "agent_id": "A-404"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "body.agent_id"


async def test_rate_limit_is_429_with_retry_after(
    api_engine: AsyncEngine, api_settings: ApiSettings, make_key: MakeKey
) -> None:
    slow = api_settings.model_copy(update={"rate_limit_per_s": 0.5, "rate_limit_burst": 3})
    key, other = await make_key(["read"]), await make_key(["read"])
    async with client_for(slow) as client:
        codes = [(await client.get("/v1/me", headers=bearer(key))).status_code for _ in range(3)]
        limited = await client.get("/v1/me", headers=bearer(key))
        others = await client.get("/v1/me", headers=bearer(other))
    assert codes == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["retry-after"]) >= 1
    assert others.status_code == 200  # per key: one busy client does not starve another


PREFLIGHT = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"}


async def test_cors_preflight_refused_by_default(api_client: httpx.AsyncClient) -> None:
    r = await api_client.options("/v1/me", headers=PREFLIGHT)
    assert r.status_code >= 400
    assert "access-control-allow-origin" not in r.headers
    simple = await api_client.get("/healthz", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_opens_to_configured_origins_only(
    api_engine: AsyncEngine, api_settings: ApiSettings
) -> None:
    open_to = api_settings.model_copy(update={"cors_origins": ["https://elsewhere.example"]})
    async with client_for(open_to) as client:
        allowed = await client.options("/v1/me", headers=PREFLIGHT)
        other = await client.options(
            "/v1/me", headers={**PREFLIGHT, "Origin": "https://evil.example"}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://elsewhere.example"
    assert "access-control-allow-origin" not in other.headers
