"""``/docs`` (Swagger UI) and ``/redoc`` served from assets inside the package (no CDN).

FastAPI's own pages load their scripts from a CDN and are blank offline; self-hosted installs run
offline. The assets are vendored by ``scripts/vendor_assets.sh`` (versions and licences in
``static/docs/VERSIONS``). Both the API and ingest call :func:`mount_docs`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_ASSETS = Path(__file__).parent / "static" / "docs"
ASSETS_PATH = "/docs-assets"
_NO_FAVICON = "data:,"  # no request to anyone's server for an icon


def mount_docs(app: FastAPI) -> None:
    """Add ``/docs`` and ``/redoc`` to ``app`` (made with ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API docs",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=_NO_FAVICON,
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API reference",
            redoc_js_url=f"{ASSETS_PATH}/redoc/redoc.standalone.js",
            redoc_favicon_url=_NO_FAVICON,
            with_google_fonts=False,
        )
