"""POST /v1/events needs a key with events:write (admin implies it), unless auth is off."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from churnwatch_api.store.keys import revoke_key
from churnwatch_ingest import IngestSettings, create_app
from churnwatch_runtime.db import make_engine
from tests.integration.ingest.support import event, make_key, serve
from tests.support.infra import unique

pytestmark = pytest.mark.integration


async def test_events_need_a_key_with_events_write(ingest_settings: IngestSettings) -> None:
    url = ingest_settings.database_url
    read_only, admin = await make_key(url, ["read"]), await make_key(url, ["admin"])
    writer = await make_key(url, ["events:write"])
    settings = ingest_settings.model_copy(update={"auth_cache_ttl_s": 0})
    prefix = unique("auth")
    async with serve(create_app(settings)) as client:

        async def post(n: int, key: str | None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            return await client.post("/v1/events", json=event(n, prefix=prefix), headers=headers)

        bare = await post(1, None)
        forged = await post(2, "cwk_0000000000_" + "x" * 43)
        reader = await post(3, read_only)
        wrote = await post(4, writer)
        by_admin = await post(5, admin)
        engine = make_engine(url, pool_size=1)
        async with engine.begin() as conn:
            await revoke_key(conn, writer.split("_")[1])
        await engine.dispose()
        revoked = await post(6, writer)
    assert bare.status_code == 401
    assert "events:write" in bare.json()["detail"]
    assert bare.headers["www-authenticate"].startswith("Bearer")
    assert forged.status_code == 401
    assert reader.status_code == 403
    assert reader.json()["detail"] == "this key lacks the scope events:write"
    assert (wrote.status_code, wrote.json()["accepted"]) == (200, 1)
    assert (by_admin.status_code, by_admin.json()["accepted"]) == (200, 1)
    assert revoked.status_code == 401
    # refused requests reserved no event id: only the two accepted ones are known
    engine = make_engine(url, pool_size=1)
    async with engine.connect() as conn:
        known = await conn.execute(
            text("SELECT event_id FROM ingest_event_ids WHERE event_id LIKE :p ORDER BY 1"),
            {"p": f"{prefix}-%"},
        )
        ids = [r[0] for r in known]
    await engine.dispose()
    assert ids == [f"{prefix}-4", f"{prefix}-5"]


async def test_auth_off_is_explicit(ingest_settings: IngestSettings) -> None:
    assert IngestSettings().auth is True  # on unless switched off
    trusted = ingest_settings.model_copy(update={"auth": False})
    async with serve(create_app(trusted)) as client:
        answer = await client.post("/v1/events", json=event(1, prefix=unique("open")))
    assert answer.status_code == 200
