"""The small HTTP face of a worker service: health, readiness from the worker, Prometheus.

Scoring and alerts serve the same three endpoints next to their worker; uvicorn runs as one
more `Runnable` under `run_worker`, which owns the signals and stops everything in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator

import uvicorn
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

from churnwatch_runtime.worker.loop import Worker


def health_app(title: str, worker: Worker, render_metrics: Callable[[], bytes]) -> FastAPI:
    """``/healthz`` (the process answers), ``/readyz`` (the worker's status), ``/metrics``."""
    app = FastAPI(title=title, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        status = worker.status()
        return JSONResponse(status.to_dict(), status_code=200 if status.ready else 503)

    @app.get("/metrics")
    async def prometheus() -> Response:
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
