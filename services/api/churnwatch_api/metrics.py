"""Prometheus metrics of the API and the ASGI middleware that records them.

Labels are route templates (``/v1/customers/{customer_id}``), methods and status codes: never a
customer id, a key or a name, so no personal data or secret reaches a metric.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class ApiMetrics:
    """Counters and histograms in a registry of their own (several apps in one test process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "cw_api_requests", "Requests answered", ["method", "route", "status"], registry=r
        )
        self.seconds = Histogram(
            "cw_api_request_seconds",
            "Request to the start of the answer",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.auth_failures = Counter(
            "cw_api_auth_failures", "Requests refused 401/403/429", ["reason"], registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Times every HTTP request and adds a few security headers to every answer."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *_SECURITY_HEADERS]
                self._observe(scope, status, started)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            self._observe(scope, status, started)
            raise

    def _observe(self, scope: Scope, status: int, started: float) -> None:
        route = _route_label(scope.get("route"))
        method = scope.get("method", "")
        self.metrics.requests.labels(method, route, str(status)).inc()
        self.metrics.seconds.labels(method, route).observe(time.perf_counter() - started)


def _route_label(route: Any) -> str:
    """The route's template, never the raw path (which may hold ids)."""
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
