"""/docs and /redoc of the API and of ingest load only the package's own files (no CDN)."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from churnwatch_api import ApiSettings, create_app
from churnwatch_ingest import IngestSettings
from churnwatch_ingest import create_app as create_ingest
from churnwatch_runtime.docs import DOCS_ASSETS


def _apps() -> list[FastAPI]:
    return [create_app(ApiSettings()), create_ingest(IngestSettings())]


@pytest.mark.parametrize("app", _apps(), ids=["api", "ingest"])
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_doc_pages_use_only_local_assets(app: FastAPI, page: str) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        html = (await client.get(page)).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources, html
        for src in sources:
            assert src.startswith(("/docs-assets/", "data:")), src
            if src.startswith("/"):
                asset = await client.get(src)
                assert asset.status_code == 200
                assert len(asset.content) > 1000
        assert "cdn" not in html.lower()
        assert "fonts.googleapis" not in html


def test_vendored_assets_carry_their_licences() -> None:
    for name in ("swagger-ui/LICENSE", "swagger-ui/NOTICE", "redoc/LICENSE", "VERSIONS"):
        assert (DOCS_ASSETS / name).stat().st_size > 0
