"""API keys and scopes: the key format, its digest, and what a set of scopes grants.

A key reads ``cwk_<id>_<secret>``: ``id`` (10 hex characters) is public and finds the row,
``secret`` (32 random bytes, URL-safe base64) is never stored — only the SHA-256 digest of the
whole key is. With 256 random bits a slow hash (argon2) adds nothing: nobody can guess the key,
and a fast digest keeps every request's check cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

ADMIN = "admin"
SCOPES: frozenset[str] = frozenset(
    {"read", "tasks:write", "playbooks:write", ADMIN, "pii:read", "events:write", "events:erase"}
)
"""Every scope a key may hold; ``admin`` implies all the others."""

KEY_PREFIX = "cwk"
_ID_BYTES = 5
_SECRET_BYTES = 32
_KEY_RE = re.compile(r"^cwk_([0-9a-f]{10})_([A-Za-z0-9_-]{43})$")


class MalformedKey(ValueError):
    """The text is not a churnwatch API key (wrong prefix, id or secret length)."""


class UnknownScope(ValueError):
    """A scope name that churnwatch does not know."""


@dataclass(frozen=True)
class KeyParts:
    """A parsed key: its public id and the secret part."""

    key_id: str
    secret: str


def format_key(key_id: str, secret: str) -> str:
    """The key as given to its holder.

    >>> format_key("0a1b2c3d4e", "s" * 43)[:20]
    'cwk_0a1b2c3d4e_sssss'
    """
    key = f"{KEY_PREFIX}_{key_id}_{secret}"
    parse_key(key)  # fail here rather than hand out a key that can never be verified
    return key


def generate_key() -> str:
    """A fresh key: 40 bits of public id and 256 bits of secret from the OS's CSPRNG."""
    return format_key(secrets.token_hex(_ID_BYTES), secrets.token_urlsafe(_SECRET_BYTES))


def parse_key(text: str) -> KeyParts:
    """Split a key into id and secret; :class:`MalformedKey` if it is not one.

    >>> parse_key("cwk_0a1b2c3d4e_" + "x" * 43).key_id
    '0a1b2c3d4e'
    >>> parse_key("hunter2")
    Traceback (most recent call last):
    ...
    churnwatch.auth.keys.MalformedKey: not a churnwatch API key (expected cwk_<id>_<secret>)
    """
    found = _KEY_RE.match(text.strip())
    if found is None:
        raise MalformedKey("not a churnwatch API key (expected cwk_<id>_<secret>)")
    return KeyParts(found.group(1), found.group(2))


def key_digest(text: str) -> str:
    """SHA-256 of the whole key, hex: the only form stored in the database.

    >>> d = key_digest("cwk_0a1b2c3d4e_" + "x" * 43)
    >>> len(d), d == key_digest(" cwk_0a1b2c3d4e_" + "x" * 43 + "\\n")
    (64, True)
    """
    return hashlib.sha256(text.strip().encode()).hexdigest()


def digests_match(stored: str, presented: str) -> bool:
    """Constant-time comparison of two digests (no timing hint about how many bytes matched).

    >>> digests_match("ab" * 32, "ab" * 32), digests_match("ab" * 32, "ac" * 32)
    (True, False)
    """
    return hmac.compare_digest(stored.encode(), presented.encode())


def parse_scopes(scopes: str | Iterable[str]) -> frozenset[str]:
    """Scopes from ``"read,tasks:write"`` or a list; :class:`UnknownScope` names a bad one.

    >>> sorted(parse_scopes("read, tasks:write"))
    ['read', 'tasks:write']
    >>> parse_scopes("read,tasks:wrte")
    Traceback (most recent call last):
    ...
    churnwatch.auth.keys.UnknownScope: unknown scope 'tasks:wrte'; known: admin, events:erase, \
events:write, pii:read, playbooks:write, read, tasks:write
    """
    items = scopes.split(",") if isinstance(scopes, str) else list(scopes)
    out = frozenset(s.strip() for s in items if s.strip())
    for scope in sorted(out):
        if scope not in SCOPES:
            known = ", ".join(sorted(SCOPES))
            raise UnknownScope(f"unknown scope {scope!r}; known: {known}")
    if not out:
        raise UnknownScope("no scope given; a key needs at least one")
    return out


def missing_scopes(held: Iterable[str], needed: Iterable[str]) -> list[str]:
    """The needed scopes ``held`` does not grant (``admin`` grants every scope).

    >>> missing_scopes({"read"}, ["read", "tasks:write"])
    ['tasks:write']
    >>> missing_scopes({"admin"}, ["pii:read", "events:write"])
    []
    """
    have = frozenset(held)
    if ADMIN in have:
        return []
    return [s for s in needed if s not in have]
