"""The small HTTP face of a worker service: health, readiness from the worker, Prometheus.

Scoring and alerts serve the same three endpoints next to their worker; uvicorn runs as one
more `Runnable` under `run_worker`, which owns the signals and stops everything in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from churnwatch_runtime import problems
from churnwatch_runtime.auth import Authenticator
from churnwatch_runtime.worker.loop import Worker

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="churnwatch"'}


async def require_scope(auth: Authenticator, authorization: str | None, scope: str) -> None:
    """Raise a 401/403/503 `Problem` unless ``authorization`` carries a key holding ``scope``."""
    kind, _, key = (authorization or "").partition(" ")
    if kind.lower() != "bearer" or not key.strip():
        detail = f"send a key with the scope {scope} as `Authorization: Bearer <key>`"
        raise problems.Problem(401, detail=detail, headers=_CHALLENGE)
    try:
        who = await auth.by_key(key.strip())
    except Exception as exc:  # the key store is PostgreSQL: unavailable, not unauthorised
        detail = "the key store did not answer"
        raise problems.Problem(503, detail=detail, headers={"Retry-After": "5"}) from exc
    if who is None:
        detail = "this API key is unknown, malformed or revoked"
        raise problems.Problem(401, detail=detail, headers=_CHALLENGE)
    if not who.allows(scope):
        raise problems.Problem(403, detail=f"this key lacks the scope {scope}")


def health_app(
    title: str,
    worker: Worker,
    render_metrics: Callable[[], bytes],
    *,
    auth: Authenticator | None = None,
) -> FastAPI:
    """``/healthz`` (the process answers), ``/readyz`` (the worker's status), ``/metrics``.

    With ``auth``, ``/metrics`` needs a key with ``read`` (``Authorization: Bearer``): its
    counters tell an outsider how many customers move and why. The probes stay open and say
    only ok/not ready (the worker's status: partitions, lag, no data).
    """
    app = FastAPI(title=title, docs_url=None, redoc_url=None)
    problems.install(app, service=title)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        status = worker.status()
        return JSONResponse(status.to_dict(), status_code=200 if status.ready else 503)

    @app.get("/metrics")
    async def prometheus(request: Request) -> Response:
        if auth is not None:
            await require_scope(auth, request.headers.get("authorization"), "read")
        return Response(render_metrics(), media_type="text/plain; version=0.0.4")

    return app


class _Server(uvicorn.Server):
    """Leaves signals to `run_worker`, which stops everything in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpRunnable:
    """uvicorn as a `Runnable`: serves ``app`` until ``stop`` is set."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
        self.server = _Server(config)

    async def run(self, stop: asyncio.Event) -> None:
        serving = asyncio.create_task(self.server.serve())
        await stop.wait()
        self.server.should_exit = True
        await serving
