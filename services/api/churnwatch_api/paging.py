"""Opaque cursors for keyset pagination: the last row's sort key, bound to the listing it came from.

A cursor is URL-safe base64 of a small JSON array ``[kind, values…]``. ``kind`` names the listing
and its sort (``at-risk:value_at_risk:desc``), so a cursor taken from one sort and sent with
another is refused instead of silently skipping rows. Cursors are not signed: they hold only sort
values a client could read from the page anyway, and every query re-applies the caller's filters.
Timestamps travel as ISO 8601 strings and come back as aware datetimes.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import orjson

__all__ = ["BadCursor", "decode_cursor", "encode_cursor", "parse_time"]


class BadCursor(ValueError):
    """A cursor that is not one of ours, or belongs to another listing or sort."""


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def encode_cursor(kind: str, *values: Any) -> str:
    """The cursor after a row whose sort key is ``values``.

    >>> encode_cursor("at-risk:clv:desc", 1200.5, "C-7")
    'WyJhdC1yaXNrOmNsdjpkZXNjIiwxMjAwLjUsIkMtNyJd'
    """
    raw = orjson.dumps([kind, *(_plain(v) for v in values)])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(token: str, kind: str, arity: int) -> list[Any]:
    """The sort values of a cursor made by `encode_cursor` for ``kind`` (`BadCursor` otherwise).

    >>> decode_cursor(encode_cursor("tasks", 2.0, "T-1"), "tasks", 2)
    [2.0, 'T-1']
    >>> token = encode_cursor("at-risk:clv:desc", 1.0, "C-1")
    >>> decode_cursor(token, "at-risk:value_at_risk:desc", 2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    churnwatch_api.paging.BadCursor: this cursor belongs to another listing or sort; ...
    >>> decode_cursor("not a cursor!", "tasks", 2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    churnwatch_api.paging.BadCursor: not a cursor of this API ...
    """
    try:
        padded = token + "=" * (-len(token) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, orjson.JSONDecodeError, ValueError):
        raise BadCursor(
            "not a cursor of this API (pass the next_cursor of a previous page)"
        ) from None
    if not isinstance(data, list) or len(data) != arity + 1:
        raise BadCursor("not a cursor of this API (pass the next_cursor of a previous page)")
    if data[0] != kind:
        raise BadCursor("this cursor belongs to another listing or sort; start again without it")
    return list(data[1:])


def parse_time(value: Any) -> datetime:
    """A timestamp from a cursor (`BadCursor` if it is not an aware ISO 8601 time).

    >>> parse_time("2026-03-10T09:00:00+00:00").isoformat()
    '2026-03-10T09:00:00+00:00'
    >>> parse_time(12)
    Traceback (most recent call last):
    ...
    churnwatch_api.paging.BadCursor: the cursor's time is not a timestamp
    """
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise BadCursor("the cursor's time is not a timestamp")
    return at
