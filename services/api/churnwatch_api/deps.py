"""FastAPI dependencies every router uses: the engine, and who the caller is.

``require("tasks:write")`` authenticates (``Authorization: Bearer <key>`` or the dashboard's
session cookie), checks the scopes (``admin`` implies all), applies the caller's rate limit and
returns the :class:`Principal`::

    @router.post("/v1/tasks/{task_id}/claim")
    async def claim(task_id: str, engine: EngineDep,
                    who: Annotated[Principal, Depends(require("tasks:write"))]) -> TaskOut: ...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.auth import SCOPES, Principal, TokenBucket
from churnwatch_api.problems import Problem
from churnwatch_runtime.auth import Authenticator

SESSION_COOKIE = "cw_session"

bearer = HTTPBearer(auto_error=False, description="An API key: `Bearer cwk_<id>_<secret>`")
session_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="The dashboard session (POST /v1/session)"
)

__all__ = ["SESSION_COOKIE", "EngineDep", "Principal", "get_engine", "require"]


async def get_engine(request: Request) -> AsyncEngine:
    # async although it awaits nothing: FastAPI runs a plain `def` dependency in its thread pool,
    # a thread hop per request (bench/bench_api.py)
    engine: AsyncEngine = request.app.state.engine
    return engine


EngineDep = Annotated[AsyncEngine, Depends(get_engine)]


def get_auth(request: Request) -> Authenticator:
    auth: Authenticator = request.app.state.auth
    return auth


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    cookie: Annotated[str | None, Depends(session_cookie)],
) -> Principal:
    """The caller, or 401: a bearer key wins over a cookie when both are sent."""
    auth = get_auth(request)
    if credentials is not None:
        principal = await auth.by_key(credentials.credentials)
        reason = "this API key is unknown, malformed or revoked"
    elif cookie:
        principal = await auth.by_session(cookie)
        reason = "the session expired or was ended; log in again"
    else:
        principal = None
        reason = "send an API key as `Authorization: Bearer <key>`, or log in (POST /v1/session)"
    if principal is None:
        request.app.state.metrics.auth_failures.labels("unauthenticated").inc()
        raise Problem(401, detail=reason, headers={"WWW-Authenticate": 'Bearer realm="churnwatch"'})
    return principal


def limit(request: Request, who: str) -> None:
    """429 with Retry-After once ``who`` has spent its bucket."""
    wait = request.app.state.limiter.check(who)
    if wait > 0:
        request.app.state.metrics.auth_failures.labels("rate_limited").inc()
        retry = TokenBucket.retry_after(wait)
        raise Problem(
            429,
            detail=f"rate limit of this key reached; retry after {retry} s",
            headers={"Retry-After": str(retry)},
        )


def require(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits callers holding every scope in ``scopes`` (none: any key)."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; known: {sorted(SCOPES)}")

    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(authenticate)]
    ) -> Principal:
        limit(request, "key:" + principal.key_id)
        lacking = principal.missing(*scopes)
        if lacking:
            request.app.state.metrics.auth_failures.labels("forbidden").inc()
            raise Problem(
                403,
                detail=f"this key lacks the scope {' and '.join(lacking)}",
                missing_scopes=lacking,
            )
        return principal

    return dependency
