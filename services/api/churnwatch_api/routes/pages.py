"""The dashboard's pages: one HTML shell per path, filled in the browser from the JSON API.

Why a shell and no server-side rendering: every number on a page comes from the same ``/v1``
endpoints (and scopes) the API documents, so the dashboard shows nothing the API would not, and
the pages need no template engine or front-end build. The shell names its page
(``<body data-page="at-risk">``); ``static/dashboard/main.js`` imports that page's ES module.
The pages themselves hold no data, so they need no login: their scripts send the visitor to
``/login`` when the API answers 401.

Headers: a Content-Security-Policy that allows scripts, styles, fetches and images from this
origin only (no CDN can be added by accident) and ``no-store`` so a logged-out browser does not
show a cached page.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from string import Template
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

router = APIRouter(include_in_schema=False)

SHELL = Path(__file__).resolve().parent.parent / "static" / "dashboard" / "shell.html"
CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:;"
    " style-src 'self' 'unsafe-inline'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)

#: path → (page module, title); the navigation lists them in this order
PAGES: dict[str, tuple[str, str]] = {
    "/queue": ("queue", "Queue"),
    "/at-risk": ("at-risk", "At risk"),
    "/kpis": ("kpis", "KPIs"),
    "/segments": ("segments", "RFM and lifecycle"),
    "/playbooks": ("playbooks", "Playbooks"),
    "/model": ("model", "Model quality"),
    "/quality": ("quality", "Data quality"),
}


class DashboardSettings(BaseSettings):
    """What the pages say numbers are in (the API's numbers carry no unit of their own)."""

    model_config = SettingsConfigDict(env_prefix="CW_DASHBOARD_", extra="ignore")

    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$", description="the events' currency")
    horizon_days: int = Field(30, ge=1, description="= CW_SCORING_HORIZON_DAYS")
    value_months: int = Field(12, ge=1, description="the CLV's horizon (docs/scoring.md)")


def render(page: str, title: str, settings: DashboardSettings, **data: str) -> str:
    """The shell with the page's name, title and data attributes filled in (escaped).

    >>> s = DashboardSettings(currency="EUR", horizon_days=30, value_months=12)
    >>> out = render("customer", "Customer C-1", s, customer='C-1"<')
    >>> 'data-page="customer"' in out and 'data-customer="C-1&quot;&lt;"' in out
    True
    """
    attrs = {"currency": settings.currency, "horizon-days": str(settings.horizon_days),
             "value-months": str(settings.value_months), **data}  # fmt: skip
    body_data = " ".join(f'data-{k}="{html.escape(v)}"' for k, v in attrs.items())
    nav = "\n".join(
        f'      <li><a href="{path}" data-nav="{name}">{html.escape(label)}</a></li>'
        for path, (name, label) in PAGES.items()
    )
    return Template(SHELL.read_text(encoding="utf-8")).substitute(
        page=html.escape(page), title=html.escape(title), data=body_data, nav=nav
    )


def _page(request: Request, page: str, title: str, **data: str) -> HTMLResponse:
    settings = getattr(request.app.state, "dashboard", None)
    if settings is None:
        settings = request.app.state.dashboard = DashboardSettings()
    headers = {"Content-Security-Policy": CSP, "Cache-Control": "no-store",
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}  # fmt: skip
    return HTMLResponse(render(page, title, settings, **data), headers=headers)


@router.get("/")
async def home() -> RedirectResponse:
    """The save team's start page is their queue."""
    return RedirectResponse("/queue", status_code=307)


@router.get("/login")
async def login(request: Request) -> HTMLResponse:
    return _page(request, "login", "Log in")


@router.get("/customers/{customer_id}")
async def customer(
    request: Request, customer_id: Annotated[str, PathParam(min_length=1, max_length=200)]
) -> HTMLResponse:
    return _page(request, "customer", f"Customer {customer_id}", customer=customer_id)


def _static_page(name: str, title: str) -> Callable[[Request], Awaitable[HTMLResponse]]:
    async def show(request: Request) -> HTMLResponse:
        return _page(request, name, title)

    return show


for _path, (_name, _title) in PAGES.items():
    router.add_api_route(_path, _static_page(_name, _title), methods=["GET"])
