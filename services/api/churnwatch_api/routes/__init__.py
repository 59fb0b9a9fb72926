"""Every router of the API; ``create_app`` includes :data:`ROUTERS` in this order.

One module per area, each exposing ``router = APIRouter()`` with full ``/v1/...`` paths. To add
one: import it here and append it to the list (a one-line edit).
"""

from fastapi import APIRouter

from churnwatch_api.routes import (
    agents,
    at_risk,
    customers,
    erasure,
    health,
    keys,
    kpis,
    live,
    model,
    pages,
    playbooks,
    quality,
    session,
    tasks,
    uplift,
)

ROUTERS: list[APIRouter] = [
    health.router,
    session.router,
    keys.router,
    customers.router,
    at_risk.router,
    tasks.router,
    agents.router,
    uplift.router,
    playbooks.router,
    live.router,
    kpis.router,
    model.router,
    quality.router,
    erasure.router,
    pages.router,
]
