"""Input PostgreSQL cannot store: the NUL character, refused with a 422 naming the field.

A ``text`` value cannot hold U+0000, so an id, filter or note carrying one would fail deep in
the database driver as a 500. Every route gets this check as an app-wide dependency: path and
query parameters and JSON body strings (keys too) are looked at before the route runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import orjson
from fastapi import Request

from churnwatch_api.problems import TYPE_BASE, Problem

NUL = "\x00"
_MESSAGE = "must not contain the NUL character (U+0000)"


def nul_fields(value: Any, where: str = "body") -> Iterator[str]:
    """Where in a decoded JSON value a string holds NUL, named like validation errors.

    >>> list(nul_fields({"team": "a\\x00", "scopes": ["read", "x\\x00"], "n": 1}))
    ['body.team', 'body.scopes[1]']
    >>> list(nul_fields({"ok": "fine"}))
    []
    """
    if isinstance(value, str):
        if NUL in value:
            yield where
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{where}.{key}"
            if NUL in key:
                yield name
            else:
                yield from nul_fields(item, name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from nul_fields(item, f"{where}[{i}]")


async def refuse_nul(request: Request) -> None:
    """App-wide dependency: 422 when a parameter or a JSON body string contains NUL."""
    fields = [f"path.{k}" for k, v in request.path_params.items() if NUL in str(v)]
    fields += [f"query.{k}" for k, v in request.query_params.multi_items() if NUL in k + v]
    body = await request.body()
    if b"\\u0000" in body:  # NUL can only reach a JSON string escaped
        with suppress(orjson.JSONDecodeError):  # not JSON: the route's body validation answers
            fields += nul_fields(orjson.loads(body))
    if fields:
        raise Problem(
            422, "Invalid request", "; ".join(f"{f}: {_MESSAGE}" for f in fields[:3]),
            type_=TYPE_BASE + "validation",
            errors=[{"field": f, "message": _MESSAGE} for f in fields],
        )  # fmt: skip
