"""One error shape for every answer that is not a success: RFC 9457 problem details.

:class:`Problem` and the shape are shared with ingest (:mod:`churnwatch_runtime.problems`); this
module adds the API's handlers and the OpenAPI documentation of the shape.

``{type, title, status, detail, instance, errors?}`` as ``application/problem+json``. Routes raise
:class:`Problem`; FastAPI's own errors (404, 405, 422 validation, …) and unexpected exceptions
are rendered the same way by the handlers :func:`install` registers.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from churnwatch_runtime.problems import MEDIA_TYPE, TYPE_BASE, Problem, field_errors
from churnwatch_runtime.problems import install as install_handlers

__all__ = [
    "MEDIA_TYPE",
    "TYPE_BASE",
    "FieldError",
    "Problem",
    "ProblemBody",
    "field_errors",
    "install",
    "problem_errors",
    "problem_responses",
]


class FieldError(BaseModel):
    """One invalid input: where (``body.scopes[1]``, ``query.limit``) and why."""

    field: str = Field(examples=["query.limit"])
    message: str = Field(examples=["Input should be less than or equal to 500"])


class ProblemBody(BaseModel):
    """The body of every error response (RFC 9457)."""

    type: str = Field(examples=[TYPE_BASE + "forbidden"])
    title: str = Field(examples=["Forbidden"])
    status: int = Field(examples=[403])
    detail: str = Field(examples=["this key lacks the scope tasks:write"])
    instance: str = Field(examples=["/v1/tasks/T-1/claim"])
    errors: list[FieldError] | None = None


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error codes a route can answer with."""
    return {
        code: {
            "description": HTTPStatus(code).phrase,
            "model": ProblemBody,
            "content": {MEDIA_TYPE: {}},
        }
        for code in codes
    }


def install(app: FastAPI) -> None:
    """Render every error of ``app`` as problem details (the handlers shared with ingest) and
    document them so in the OpenAPI."""
    install_handlers(app, service="API")
    _document(app)


def _document(app: FastAPI) -> None:
    """Declare in the OpenAPI what the handlers send: every error response as
    ``application/problem+json`` with :class:`ProblemBody` (FastAPI's own documentation says
    ``application/json``, and ``HTTPValidationError`` for 422, which this API never sends)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_errors(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def problem_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with each 4xx/5xx response as problem details, FastAPI's error models gone.

    >>> spec = {"paths": {"/x": {"get": {"responses": {
    ...     "200": {"content": {"application/json": {}}},
    ...     "422": {"description": "Validation Error", "content": {"application/json": {}}}}}}},
    ...     "components": {"schemas": {"HTTPValidationError": {}, "ValidationError": {}}}}
    >>> out = problem_errors(spec)
    >>> error = out["paths"]["/x"]["get"]["responses"]["422"]
    >>> error["description"], error["content"]["application/problem+json"]["schema"]
    ('Invalid request', {'$ref': '#/components/schemas/ProblemBody'})
    >>> list(error["content"])
    ['application/problem+json']
    >>> sorted(out["components"]["schemas"])
    ['FieldError', 'ProblemBody']
    """
    body = {"schema": {"$ref": "#/components/schemas/ProblemBody"}}
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                if code[0] in "45":
                    response["content"] = {MEDIA_TYPE: body}
                    if code == "422":
                        response["description"] = "Invalid request"
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    for model in (FieldError, ProblemBody):
        shape = model.model_json_schema(ref_template="#/components/schemas/{model}")
        shape.pop("$defs", None)
        schemas.setdefault(model.__name__, shape)
    return spec
