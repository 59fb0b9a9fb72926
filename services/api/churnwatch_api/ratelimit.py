"""Per-key rate limits in this process: one token bucket per key (or per client address)."""

from __future__ import annotations

import time
from collections.abc import Callable

from churnwatch.auth import TokenBucket

_MAX_BUCKETS = 50_000


class RateLimiter:
    """``check(who)`` answers 0 when the request may go on, else the seconds to wait.

    In-process: with several API processes each enforces its own limit (documented in
    docs/api.md). ``rate`` 0 turns it off.
    """

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def check(self, who: str) -> float:
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(who)
        if bucket is None:
            if len(self._buckets) >= _MAX_BUCKETS:
                self._buckets.clear()  # bounded memory; a full bucket each is the safe default
            bucket = self._buckets[who] = TokenBucket.full(self.rate, self.burst, now)
        return bucket.take(now)
