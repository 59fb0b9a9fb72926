"""Helpers of the API's integration tests: a client over the app, with its lifespan running."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from churnwatch_api import ApiSettings, create_app

BASE_URL = "https://testserver"  # https: the client then keeps the Secure session cookie


@asynccontextmanager
async def client_for(settings: ApiSettings) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on ``create_app(settings)`` in-process (no port), lifespan started."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
