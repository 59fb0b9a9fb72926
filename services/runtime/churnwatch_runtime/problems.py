"""One error shape for every HTTP service: RFC 9457 problem details.

``{type, title, status, detail, instance, errors?}`` as ``application/problem+json``. The API
and ingest both answer with it (ingest may not import the API, so the shared part lives here):
routes raise :class:`Problem`; :func:`install` renders FastAPI's own errors (401 from a
dependency, 404, 405, 422 validation) and unexpected exceptions the same way.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["MEDIA_TYPE", "TYPE_BASE", "Problem", "field_errors", "install", "problem_body"]

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://churnwatch.dev/problems/"  # identifiers (docs/api.md), not pages to fetch
_UNPARSABLE_BODY = "There was an error parsing the body"  # fastapi.routing's 400


class Problem(Exception):
    """Raise from a route to answer with problem details.

    ``type_`` defaults to a slug of the title; ``extra`` adds members (e.g. ``errors``) and
    ``headers`` response headers (``Retry-After``, ``WWW-Authenticate``).
    """

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str = "",
        *,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail or self.title
        self.type = type_ or TYPE_BASE + _slug(self.title)
        self.headers = headers or {}
        self.extra = extra
        super().__init__(f"{status} {self.title}: {self.detail}")

    def body(self, instance: str) -> dict[str, Any]:
        """The JSON document (``instance``: the request's path)."""
        return problem_body(
            self.status, self.title, self.detail, instance, type_=self.type, **self.extra
        )

    def response(self, request: Request) -> JSONResponse:
        return JSONResponse(
            self.body(request.url.path), self.status, headers=self.headers, media_type=MEDIA_TYPE
        )


def problem_body(
    status: int, title: str, detail: str, instance: str, *, type_: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The members every problem has, then ``extra``.

    >>> problem_body(415, "Unsupported Media Type", "send JSON", "/v1/events")["type"]
    'https://churnwatch.dev/problems/unsupported-media-type'
    """
    return {
        "type": type_ or TYPE_BASE + _slug(title),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }


def field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as ``{field, message}``: ``loc`` joined the way a reader writes it.

    >>> from fastapi.exceptions import RequestValidationError
    >>> field_errors(RequestValidationError([
    ...     {"loc": ("body", "scopes", 1), "msg": "bad", "type": "x"},
    ...     {"loc": ("query", "limit"), "msg": "too big", "type": "y"}]))
    [{'field': 'body.scopes[1]', 'message': 'bad'}, {'field': 'query.limit', 'message': 'too big'}]
    """
    out = []
    for err in exc.errors():
        field = ""
        for part in err.get("loc", ()):
            field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
        out.append({"field": field or "body", "message": str(err.get("msg", "invalid"))})
    return out


def install(app: FastAPI, *, service: str = "service") -> None:
    """Render every error of ``app`` as problem details (``service`` names the log to look at)."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return exc.response(request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        elif exc.status_code == 400 and detail == _UNPARSABLE_BODY:
            # FastAPI's answer to a JSON body that is not UTF-8: the same 422 as a malformed one
            message = "the body is not JSON text in UTF-8"
            return Problem(422, "Invalid request", f"body: {message}", type_=TYPE_BASE +
                           "validation", errors=[{"field": "body", "message": message}],
                           ).response(request)  # fmt: skip
        headers = dict(exc.headers or {})
        return Problem(exc.status_code, detail=detail, headers=headers).response(request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = field_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
        return Problem(
            422, "Invalid request", detail, type_=TYPE_BASE + "validation", errors=errors
        ).response(request)

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return Problem(500, detail=f"unexpected error; see the {service}'s log").response(request)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_crash)


def _slug(title: str) -> str:
    """
    >>> _slug("Too Many Requests")
    'too-many-requests'
    """
    return "-".join(title.lower().replace("'", "").split())
