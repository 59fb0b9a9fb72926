"""What a JSON parser silently forgives: duplicate keys and bytes that are not UTF-8.

orjson (like most parsers) keeps the *last* of two equal keys, so ``{"amount": "1",
"amount": "1000"}`` would be accepted as 1000 without a word — two systems reading the same bytes
may disagree on what was sent. Detecting that must cost little on the happy path, so it is two
steps: :func:`may_have_duplicate_keys` compares colons in the text with colons in the parsed
document re-encoded (C-speed counts); only when they differ does :func:`duplicate_keys` parse
again, slowly, to name every duplicated key with its path.

A body that is not UTF-8 makes orjson say "surrogates not allowed", naming neither the byte nor
the field; :func:`utf8_error` names both.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from ._errors import ErrorCode, FieldError

__all__ = [
    "duplicate_key_errors",
    "duplicate_keys",
    "may_have_duplicate_keys",
    "utf8_error",
]


def may_have_duplicate_keys(data: bytes, doc: Any) -> bool:
    """False only if the JSON text ``data`` (parsed as ``doc``) writes no key twice.

    Counts colons, in C: outside strings a colon follows each key written, and orjson's
    re-encoding of ``doc`` writes every colon of the kept strings raw. So the text has more
    colons than the re-encoding exactly when the parser dropped a key (with its value) — unless
    the text hid a colon in a string as an escape (``\\u003a``), which sends it to the slow
    path too. About 1.5 µs per event of a 1,000-event body here, against ~7 µs to validate one.

    >>> import orjson
    >>> body = b'{"amount": "1", "note": "a:b", "amount": "1000"}'
    >>> may_have_duplicate_keys(body, orjson.loads(body))
    True
    >>> body = b'{"amount": "1", "note": "a:b", "at": "10:00"}'
    >>> may_have_duplicate_keys(body, orjson.loads(body))
    False
    """
    if b"\\u003" in data:
        return True
    return data.count(b":") != orjson.dumps(doc).count(b":")


class _Object(dict[str, Any]):
    """A parsed object that keeps every pair it was written with, duplicates included."""

    pairs: list[tuple[str, Any]]


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    obj.pairs = pairs
    return obj


def duplicate_keys(data: bytes | str) -> list[str]:
    """The path of every duplicated key in ``data`` (the slow path: stdlib parse with a hook).

    Paths are dotted (``attributes.amount``); array positions in brackets (``[3].amount``).

    >>> duplicate_keys(b'[{"a": 1}, {"x": {"amount": 1, "amount": 2}, "x": 0}]')
    ['[1].x.amount', '[1].x']
    >>> duplicate_keys(b'{"a": 1}')
    []
    """
    try:
        doc = json.loads(data, object_pairs_hook=_pairs)
    except (ValueError, RecursionError):
        return []
    out: list[str] = []
    _collect(doc, "", out)
    return out


def _collect(node: Any, path: str, out: list[str]) -> None:
    if isinstance(node, _Object):
        seen: set[str] = set()
        for key, value in node.pairs:
            here = _join(path, key)
            if key in seen and here not in out:
                out.append(here)
            seen.add(key)
            _collect(value, here, out)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _collect(value, f"{path}[{i}]", out)


def _join(path: str, key: str) -> str:
    if not key or any(c in key for c in '.[]"'):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


def duplicate_key_errors(paths: list[str]) -> list[FieldError]:
    """One ``duplicate_key`` error per path.

    >>> duplicate_key_errors(["attributes.amount"])[0].message
    "key 'amount' appears more than once in its object; which value was meant is ambiguous"
    """
    return [
        FieldError(
            path,
            ErrorCode.DUPLICATE_KEY,
            f"key {path.rsplit('.', 1)[-1]!r} appears more than once in its object; which value"
            " was meant is ambiguous",
        )
        for path in paths
    ]


def utf8_error(data: bytes) -> FieldError | None:
    """An ``invalid_encoding`` error naming the first bad byte, its offset and field; or None.

    >>> utf8_error(b'{"name": "ok"}') is None
    True
    >>> utf8_error(b'{"attributes": {"name": "Jos\\xe9"}}').message
    'not valid UTF-8: byte 0xe9 at offset 28 (attributes.name); send JSON text in UTF-8'
    >>> utf8_error(b'{"attributes": {"name": "Jos\\xe9"}}').field
    'attributes.name'
    """
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset, byte = exc.start, data[exc.start]
    else:
        return None
    field = _field_at(data.decode("utf-8", "surrogateescape"))
    where = f" ({field})" if field else ""
    message = f"not valid UTF-8: byte 0x{byte:02x} at offset {offset}{where}"
    message += "; send JSON text in UTF-8"
    return FieldError(field, ErrorCode.INVALID_ENCODING, message)


def _field_at(text: str) -> str:
    """The path of the first key or string value holding an undecodable byte ("" if unknown)."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return ""
    return _find_bad(doc, "") or ""


def _find_bad(node: Any, path: str) -> str | None:
    if isinstance(node, str):
        return path if _has_escape(node) else None
    if isinstance(node, dict):
        for key, value in node.items():
            here = _join(path, key)
            if _has_escape(key):
                return here
            found = _find_bad(value, here)
            if found is not None:
                return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found = _find_bad(value, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def _has_escape(text: str) -> bool:
    return any("\udc80" <= c <= "\udcff" for c in text)
