"""Webhook signatures and retry delays (pure).

A receiver verifies ``X-Churnwatch-Signature: t=<unix seconds>,v1=<hex>`` by recomputing
HMAC-SHA256(secret, ``f"{t}.{body}"``) and rejecting old timestamps (replays); it dedupes on
``X-Churnwatch-Action-Id`` (delivery is at-least-once).
"""

from __future__ import annotations

import hashlib
import hmac
import random

SIGNATURE_HEADER = "X-Churnwatch-Signature"
ACTION_ID_HEADER = "X-Churnwatch-Action-Id"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``v1`` value: hex HMAC-SHA256 of ``"{timestamp}.{body}"`` under ``secret``.

    >>> len(signature("s3cret", 1700000000, b'{"a":1}'))
    64
    """
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The header value.

    >>> signature_header("s3cret", 1700000000, b"{}").startswith("t=1700000000,v1=")
    True
    """
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, *, now: float | None = None, tolerance: float = 300
) -> bool:
    """What a receiver does: the signature matches and (given ``now``) is recent enough.

    >>> h = signature_header("k", 100, b"x")
    >>> verify("k", h, b"x"), verify("k", h, b"y"), verify("other", h, b"x")
    (True, False, False)
    >>> verify("k", h, b"x", now=1000)
    False
    """
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if now is not None and abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(given, signature(secret, timestamp, body))


def backoff(attempts: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failure: exponential backoff with full jitter
    (uniform in ``[0, min(cap, base·2^(attempts-1))]``), so failing endpoints are not hammered
    in lockstep.

    >>> all(0 <= backoff(n, base=1, cap=60) <= min(60, 2 ** (n - 1)) for n in range(1, 12))
    True
    """
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(0, ceiling)
