"""Webhook signatures and retry delays (pure).

A receiver verifies ``X-Churnwatch-Signature: t=<unix seconds>,v1=<hex>`` by recomputing
HMAC-SHA256(secret, ``f"{t}.{body}"``) and rejecting old timestamps (replays); it dedupes on
``X-Churnwatch-Action-Id`` (delivery is at-least-once).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from collections.abc import Callable

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


class ReplayGuard:
    """The reference receiver's check: signature, freshness and no replay (docs/security.md).

    A delivery is refused if its signature does not match (tampered body or wrong secret), if
    its timestamp is more than ``tolerance`` seconds from the receiver's clock (an old capture),
    or if the very same signature was accepted before (a capture replayed within the tolerance).
    A *retry* by churnwatch is a new request (new timestamp, new signature) and passes; the
    receiver then dedupes on ``X-Churnwatch-Action-Id``. Only signatures younger than the
    tolerance are remembered: older ones fail the timestamp check anyway.

    >>> guard = ReplayGuard("k", clock=lambda: 1000.0)
    >>> h = signature_header("k", 1000, b"x")
    >>> guard.check(h, b"x"), guard.check(h, b"x"), guard.check(h, b"y")
    (None, 'replayed', 'bad signature')
    >>> guard.check(signature_header("k", 600, b"x"), b"x")
    'stale timestamp'
    """

    def __init__(
        self, secret: str, *, tolerance: float = 300, clock: Callable[[], float] = time.time
    ) -> None:
        self.secret, self.tolerance, self.clock = secret, tolerance, clock
        self._seen: dict[str, float] = {}  # signature -> its timestamp

    def check(self, header: str, body: bytes) -> str | None:
        """None when the delivery may be processed; else why it is refused."""
        now = self.clock()
        if not verify(self.secret, header, body):
            return "bad signature"
        if not verify(self.secret, header, body, now=now, tolerance=self.tolerance):
            return "stale timestamp"
        self._seen = {s: t for s, t in self._seen.items() if now - t <= self.tolerance}
        given = header.rsplit("v1=", 1)[-1]
        if given in self._seen:
            return "replayed"
        self._seen[given] = int(header.split("t=", 1)[1].split(",", 1)[0])
        return None


def backoff(attempts: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failure: exponential backoff with full jitter
    (uniform in ``[0, min(cap, base·2^(attempts-1))]``), so failing endpoints are not hammered
    in lockstep.

    >>> all(0 <= backoff(n, base=1, cap=60) <= min(60, 2 ** (n - 1)) for n in range(1, 12))
    True
    """
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return (rng or random).uniform(0, ceiling)
