"""FastAPI dependencies of the ingest routes: what the app and its lifespan put on ``app.state``.

A route names what it uses by type (``service: ServiceDep``) instead of reaching into a closure,
so the routes live in a module-level router and a new requirement (an API-key scope, say) is one
more parameter or one ``dependencies=[Depends(...)]`` entry on the route::

    @router.post("/v1/events")
    async def post_events(request: Request, service: ServiceDep, settings: SettingsDep) -> ...
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from churnwatch.auth import Principal
from churnwatch_ingest.metrics import IngestMetrics
from churnwatch_ingest.service import IngestService
from churnwatch_ingest.settings import IngestSettings

__all__ = [
    "MaybeServiceDep",
    "MetricsDep",
    "ServiceDep",
    "SettingsDep",
    "get_metrics",
    "get_service",
    "get_settings",
    "maybe_service",
    "require_events_write",
    "require_read",
]

EVENTS_SCOPE = "events:write"
READ_SCOPE = "read"
_bearer = HTTPBearer(auto_error=False, description="An API key with the scope events:write")


def get_settings(request: Request) -> IngestSettings:
    """The settings ``create_app`` was given (fixed for the app's life)."""
    settings: IngestSettings = request.app.state.settings
    return settings


def get_metrics(request: Request) -> IngestMetrics:
    """The app's Prometheus metrics (created with the app, so /metrics answers before start-up)."""
    metrics: IngestMetrics = request.app.state.metrics
    return metrics


def maybe_service(request: Request) -> IngestService | None:
    """The ingest service, or None until the lifespan has connected Kafka and PostgreSQL."""
    service: IngestService | None = getattr(request.app.state, "service", None)
    return service


def get_service(
    service: Annotated[IngestService | None, Depends(maybe_service)],
) -> IngestService:
    """The ingest service; 503 while the lifespan has not opened it yet."""
    if service is None:
        raise HTTPException(503, "ingest is starting", headers={"Retry-After": "1"})
    return service


async def require_events_write(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The sender's key, which must hold ``events:write``; ``None`` with ``CW_INGEST_AUTH=off``.

    401 without a valid key, 403 naming the scope, 503 (Retry-After) while the lifespan has not
    opened the key store yet or PostgreSQL does not answer.
    """
    return await _principal(request, credentials, EVENTS_SCOPE)


async def require_read(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """A key with ``read`` (``/metrics``: counts by reason and source are not for everyone)."""
    return await _principal(request, credentials, READ_SCOPE)


async def _principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None, scope: str
) -> Principal | None:
    if not get_settings(request).auth:
        return None
    if credentials is None:
        raise HTTPException(
            401,
            f"send a key with the scope {scope} as `Authorization: Bearer <key>`"
            f" (churnwatch keys create --scopes {scope} --name <sender>)",
            headers={"WWW-Authenticate": 'Bearer realm="churnwatch"'},
        )
    auth = getattr(request.app.state, "auth", None)
    if auth is None:
        raise HTTPException(503, "ingest is starting", headers={"Retry-After": "1"})
    try:
        who: Principal | None = await auth.by_key(credentials.credentials)
    except Exception as exc:  # the key store is PostgreSQL: unavailable, not unauthorised
        raise HTTPException(
            503, "the key store did not answer", headers={"Retry-After": "5"}
        ) from exc
    if who is None:
        raise HTTPException(
            401,
            "this API key is unknown, malformed or revoked",
            headers={"WWW-Authenticate": 'Bearer realm="churnwatch"'},
        )
    if not who.allows(scope):
        raise HTTPException(403, f"this key lacks the scope {scope}")
    return who


SettingsDep = Annotated[IngestSettings, Depends(get_settings)]
MetricsDep = Annotated[IngestMetrics, Depends(get_metrics)]
ServiceDep = Annotated[IngestService, Depends(get_service)]
MaybeServiceDep = Annotated[IngestService | None, Depends(maybe_service)]
