"""The per-key token buckets, on a clock the test moves (no sleeping)."""

from __future__ import annotations

from churnwatch_api.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_each_key_has_its_own_bucket_and_refills() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.check("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check("a") == 0.5  # one token back after 1/rate seconds
    assert limiter.check("b") == 0.0  # another key is not affected
    clock.now += 0.5
    assert limiter.check("a") == 0.0
    assert limiter.check("a") > 0


def test_rate_zero_turns_the_limit_off() -> None:
    limiter = RateLimiter(rate=0.0, burst=1, clock=Clock())
    assert all(limiter.check("a") == 0.0 for _ in range(1000))
