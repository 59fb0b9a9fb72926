"""API fixtures: a fresh migrated database, a client on the app bound to it, and keys.

    async def test_x(api_client, make_key):
        key = await make_key(["read"])
        r = await api_client.get("/v1/me", headers={"Authorization": f"Bearer {key}"})

Override ``api_settings`` in a test module to change the app's settings (rate limits, CORS).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_api import ApiSettings
from churnwatch_api.store.keys import create_key
from tests.integration.api.support import client_for

MakeKey = Callable[..., Awaitable[str]]


@pytest.fixture
async def api_engine(db: AsyncEngine) -> AsyncEngine:
    """An engine on a brand-new migrated database (the app under test uses the same database)."""
    return db


@pytest.fixture
def api_settings(fresh_database: str) -> ApiSettings:
    """The app's settings: the fresh database, no key cache (revocations are seen at once)."""
    return ApiSettings(database_url=fresh_database, auth_cache_ttl_s=0, log_json=False)


@pytest.fixture
async def api_client(
    api_engine: AsyncEngine, api_settings: ApiSettings
) -> AsyncIterator[httpx.AsyncClient]:
    """httpx.AsyncClient over ASGITransport of ``create_app(api_settings)``, lifespan running."""
    async with client_for(api_settings) as client:
        yield client


@pytest.fixture
def make_key(api_engine: AsyncEngine) -> MakeKey:
    """``await make_key(["read", "tasks:write"], name="alice", agent_id=None)`` → the key."""

    async def make(scopes: list[str], name: str = "test", agent_id: str | None = None) -> str:
        async with api_engine.begin() as conn:
            _, key = await create_key(conn, name=name, scopes=scopes, agent_id=agent_id)
        return key

    return make
