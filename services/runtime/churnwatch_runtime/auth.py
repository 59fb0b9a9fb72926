"""Verify an API key or a dashboard session against PostgreSQL, with a short-lived cache.

Both the API and ingest check keys (ingest's ``POST /v1/events`` needs ``events:write``), and
neither may import the other, so the check lives here. Keys are created and revoked by the API
package (``churnwatch keys``, ``/v1/keys``); this module only reads them.

The cache keeps each answer (including "no such key") for ``ttl_s`` seconds, so a busy client
costs one query per TTL instead of one per request. A revoked key therefore stops working within
``ttl_s`` in every process (at once in the process that revoked it: :meth:`forget`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.auth import MalformedKey, Principal, digests_match, key_digest, parse_key

_KEY = text(
    "SELECT id, digest, name, scopes, agent_id FROM api_keys WHERE id = :id AND revoked_at IS NULL"
)
_TOUCH = text("UPDATE api_keys SET last_used_at = now() WHERE id = :id")
_SESSION = text(
    "SELECT k.id, k.name, k.scopes, k.agent_id FROM api_sessions s"
    " JOIN api_keys k ON k.id = s.key_id"
    " WHERE s.id = :digest AND s.expires_at > now() AND k.revoked_at IS NULL"
)
_MAX_CACHED = 10_000


class Authenticator:
    """Turns a presented key or session cookie into a :class:`Principal` (or ``None``)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def by_key(self, key: str) -> Principal | None:
        """The key's principal; ``None`` if malformed, unknown or revoked."""
        try:
            parts = parse_key(key)
        except MalformedKey:
            return None
        digest = key_digest(key)
        hit, cached = self._cached(digest)
        if hit:
            return cached
        async with self.engine.begin() as conn:
            row = (await conn.execute(_KEY, {"id": parts.key_id})).mappings().first()
            found = None
            if row is not None and digests_match(row["digest"], digest):
                found = _principal(row)
                await conn.execute(_TOUCH, {"id": parts.key_id})
        return self._store(digest, found)

    async def by_session(self, token: str) -> Principal | None:
        """The principal of a live session (unexpired, its key not revoked); else ``None``."""
        if not token or len(token) > 200:
            return None
        digest = "s:" + key_digest(token)
        hit, cached = self._cached(digest)
        if hit:
            return cached
        async with self.engine.connect() as conn:
            row = (await conn.execute(_SESSION, {"digest": digest[2:]})).mappings().first()
        return self._store(digest, None if row is None else _principal(row))

    def forget(self, key_id: str | None = None) -> None:
        """Drop cached answers (of one key, or all) after a revocation or a logout."""
        if key_id is None:
            self._cache.clear()
            return
        for digest, (_, found) in list(self._cache.items()):
            if found is not None and found.key_id == key_id:
                del self._cache[digest]

    def forget_session(self, token: str) -> None:
        """Drop one session's cached answer (logout)."""
        self._cache.pop("s:" + key_digest(token), None)

    def _cached(self, digest: str) -> tuple[bool, Principal | None]:
        """(whether the cache answers, its answer)."""
        entry = self._cache.get(digest)
        if entry is None or entry[0] <= self._clock():
            return False, None
        return True, entry[1]

    def _store(self, digest: str, found: Principal | None) -> Principal | None:
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()  # crude but bounded; a TTL's worth of queries refills it
        self._cache[digest] = (self._clock() + self.ttl_s, found)
        return found


def _principal(row: Any) -> Principal:
    return Principal.of(
        key_id=row["id"], name=row["name"], agent_id=row["agent_id"], scopes=list(row["scopes"])
    )
