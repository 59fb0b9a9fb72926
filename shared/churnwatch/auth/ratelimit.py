"""A token bucket per caller: steady ``rate`` requests per second, bursts up to ``burst``."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class TokenBucket:
    """Refills continuously; :meth:`take` answers 0 when allowed, else the seconds to wait.

    The clock is an argument (``now``, seconds), so the rule is tested without sleeping.

    >>> b = TokenBucket(rate=1.0, burst=2, tokens=2.0, updated=0.0)
    >>> b.take(0.0), b.take(0.0), b.take(0.0)
    (0.0, 0.0, 1.0)
    >>> b.take(1.0)
    0.0
    """

    rate: float
    burst: int
    tokens: float
    updated: float

    @classmethod
    def full(cls, rate: float, burst: int, now: float) -> TokenBucket:
        return cls(rate=rate, burst=burst, tokens=float(burst), updated=now)

    def take(self, now: float) -> float:
        """Spend one token if there is one; else how long until there is (nothing spent)."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> int:
        """Whole seconds for a Retry-After header (at least 1).

        >>> TokenBucket.retry_after(0.2), TokenBucket.retry_after(1.5)
        (1, 2)
        """
        return max(1, math.ceil(wait))
