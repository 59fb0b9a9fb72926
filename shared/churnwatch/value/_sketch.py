"""A mergeable streaming quantile sketch with a relative-error guarantee (DDSketch-style).

Values fall in logarithmic buckets ``(γ^(k-1), γ^k]`` with ``γ = (1 + α) / (1 - α)`` (mirrored
for negative values, plus one bucket for exact zeros); the sketch keeps one count per non-empty
bucket and the exact minimum and maximum. Because the state is integer counts keyed by a pure
function of each value, adding values in any order, or merging sketches of any partition of the
values, gives the *same* state: a worker can keep one per partition and merge them.

**Error bound** (α = ``relative_accuracy``): for ``n`` values and ``q`` in ``[0, 1]``,
`QuantileSketch.quantile` returns ``v̂`` with ``|v̂ - v| <= α |v|``, where ``v`` is the exact
"lower" quantile, the value of rank ``floor(q (n - 1))`` in sorted order (numpy's
``method="lower"``). `QuantileSketch.rank` returns a fraction between the exact ``cdf(x)`` (share
of values ``<= x``) and ``cdf(γ x)`` for ``x > 0`` (``cdf(x / γ)`` for ``x < 0``): the rank is
exact up to values within a factor γ of ``x``. The bound can fail only when more than
``max_buckets`` buckets would be needed on one side of zero (values spanning more than a factor
``γ^max_buckets``, 10¹⁸ by default); then the smallest magnitudes are merged into one bucket.

Memory is ``O(log(max/min) / α)`` buckets: about 700 for values from 0.01 to 10⁴ at α = 1%.

References
----------
Masson, C., Rim, J. E. & Lee, H. K. (2019). "DDSketch: A Fast and Fully-Mergeable Quantile
Sketch with Relative-Error Guarantees". PVLDB 12(12), 2195-2205.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["QuantileSketch"]

_DEFAULT_SPAN = 18 * math.log(10)
"""Natural-log span of magnitudes covered by the default bucket limit."""


class _Store:
    """Bucket counts of one side of zero, keyed by ``ceil(log_γ |value|)``.

    At most ``limit`` buckets: keys below ``top - limit + 1`` are merged into that key. The
    result depends only on the multiset of keys added (``top`` only grows), not on their order.
    """

    __slots__ = ("counts", "limit", "top")

    def __init__(self, limit: int) -> None:
        self.counts: dict[int, int] = {}
        self.limit = limit
        self.top: int | None = None

    def add(self, key: int, count: int) -> None:
        key = max(key, self._raise_top(key))
        self.counts[key] = self.counts.get(key, 0) + count

    def add_all(self, counts: dict[int, int]) -> None:
        """Add another store's counts, raising the top once (no repeated folding)."""
        if counts:
            floor = self._raise_top(max(counts))
            for key, count in counts.items():
                self.counts[max(key, floor)] = self.counts.get(max(key, floor), 0) + count

    def _raise_top(self, key: int) -> int:
        """Make ``key`` the top if higher, folding keys now below the floor; the floor."""
        if self.top is None or key > self.top:
            self.top = key
            floor = key - self.limit + 1
            low = [k for k in self.counts if k < floor]
            if low:
                folded = sum(self.counts.pop(k) for k in low)
                self.counts[floor] = self.counts.get(floor, 0) + folded
        return self.top - self.limit + 1

    def total(self) -> int:
        return sum(self.counts.values())


class QuantileSketch:
    """Streaming quantiles and ranks of a population of values (e.g. customers' CLV).

    Parameters
    ----------
    relative_accuracy
        α in the error bound above, in ``(0, 1)``.
    max_buckets
        Most buckets kept on each side of zero; by default enough for values spanning a
        factor 10¹⁸ (2,072 buckets at α = 1%). Only non-empty buckets take memory.

    Examples
    --------
    >>> sketch = QuantileSketch(relative_accuracy=0.01)
    >>> for value in range(1, 1001):
    ...     sketch.add(float(value))
    >>> median = sketch.quantile(0.5)  # exact (lower) median: 500
    >>> abs(median - 500) <= 0.01 * 500, sketch.count
    (True, 1000)
    >>> 0.9 <= sketch.rank(900.0) < 0.919  # between cdf(900) and cdf(γ 900), γ = 1.0202
    True
    >>> other = QuantileSketch(relative_accuracy=0.01)
    >>> other.add(5000.0)
    >>> sketch.merge(other)
    >>> sketch.quantile(1.0), sketch.count
    (5000.0, 1001)
    """

    __slots__ = (
        "_count",
        "_gamma",
        "_ln_gamma",
        "_max",
        "_max_buckets",
        "_min",
        "_neg",
        "_pos",
        "_relative_accuracy",
        "_zero",
    )

    def __init__(self, relative_accuracy: float = 0.01, max_buckets: int | None = None) -> None:
        if not 0 < relative_accuracy < 1:
            raise ValueError(f"relative_accuracy must be in (0, 1), got {relative_accuracy}")
        gamma = (1 + relative_accuracy) / (1 - relative_accuracy)
        if max_buckets is None:
            max_buckets = math.ceil(_DEFAULT_SPAN / math.log(gamma))
        if max_buckets < 1:
            raise ValueError(f"max_buckets must be >= 1, got {max_buckets}")
        self._relative_accuracy = relative_accuracy
        self._gamma = gamma
        self._ln_gamma = math.log(gamma)
        self._max_buckets = max_buckets
        self._pos = _Store(max_buckets)
        self._neg = _Store(max_buckets)
        self._zero = 0
        self._count = 0
        self._min = math.inf
        self._max = -math.inf

    @property
    def relative_accuracy(self) -> float:
        """α of the error bound."""
        return self._relative_accuracy

    @property
    def count(self) -> int:
        """Number of values added (with their multiplicity)."""
        return self._count

    def add(self, value: float, count: int = 1) -> None:
        """Add ``value`` ``count`` times."""
        if not math.isfinite(value):
            raise ValueError(f"value must be finite, got {value}")
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        if value > 0:
            self._pos.add(self._key(value), count)
        elif value < 0:
            self._neg.add(self._key(-value), count)
        else:
            self._zero += count
        self._count += count
        self._min = min(self._min, value)
        self._max = max(self._max, value)

    def merge(self, other: QuantileSketch) -> None:
        """Add every value of ``other`` (same parameters) to this sketch."""
        if (other.relative_accuracy, other._max_buckets) != (
            self.relative_accuracy,
            self._max_buckets,
        ):
            raise ValueError("cannot merge sketches with different parameters")
        self._pos.add_all(other._pos.counts)
        self._neg.add_all(other._neg.counts)
        self._zero += other._zero
        self._count += other._count
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)

    def quantile(self, q: float) -> float:
        """Estimate of the value of rank ``floor(q (n - 1))``, within ``α`` relative error."""
        return self._at(q)[0]

    def upper_quantile(self, q: float) -> float:
        """The upper edge of the bucket holding the rank ``floor(q (n - 1))`` value ``v``.

        ``v <= upper_quantile(q) < γ v`` for ``v > 0`` (``v / γ`` for ``v < 0``; exact for 0
        and at the extremes): a threshold that never falls below the exact quantile, so
        values tied with it stay on the same side as with exact quantiles.

        >>> s = QuantileSketch()
        >>> for value in (1.0, 2.0, 2.0, 2.0, 9.0):
        ...     s.add(value)
        >>> s.quantile(0.5) <= 2.0 <= s.upper_quantile(0.5) < 2.0 * 1.01 / 0.99
        True
        """
        return self._at(q)[1]

    def rank(self, value: float) -> float:
        """Estimated share of values ``<= value``; see the module's error bound."""
        if self._count == 0:
            raise ValueError("rank in an empty sketch")
        if value < self._min:
            return 0.0
        if value >= self._max:
            return 1.0
        below = 0
        if value > 0:
            key = self._key(value)
            below = self._neg.total() + self._zero
            below += sum(c for k, c in self._pos.counts.items() if k <= key)
        elif value == 0:
            below = self._neg.total() + self._zero
        else:
            key = self._key(-value)
            below = sum(c for k, c in self._neg.counts.items() if k >= key)
        return below / self._count

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready state, for storing a population's sketch (see `from_dict`)."""
        return {
            "relative_accuracy": self.relative_accuracy,
            "max_buckets": self._max_buckets,
            "pos": sorted(self._pos.counts.items()),
            "neg": sorted(self._neg.counts.items()),
            "zero": self._zero,
            "min": self._min if self._count else None,
            "max": self._max if self._count else None,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> QuantileSketch:
        """The sketch saved by `to_dict`.

        >>> s = QuantileSketch(); s.add(3.0); s.add(0.0)
        >>> QuantileSketch.from_dict(s.to_dict()) == s
        True
        """
        sketch = cls(state["relative_accuracy"], state["max_buckets"])
        sketch._pos.add_all({int(key): int(count) for key, count in state["pos"]})
        sketch._neg.add_all({int(key): int(count) for key, count in state["neg"]})
        sketch._zero = int(state["zero"])
        sketch._count = sketch._zero + sketch._pos.total() + sketch._neg.total()
        if sketch._count:
            sketch._min, sketch._max = float(state["min"]), float(state["max"])
        return sketch

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuantileSketch):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return (
            f"QuantileSketch(relative_accuracy={self.relative_accuracy}, count={self._count}, "
            f"buckets={len(self._pos.counts) + len(self._neg.counts) + bool(self._zero)})"
        )

    def __getstate__(self) -> dict[str, Any]:
        return self.to_dict()

    def __setstate__(self, state: dict[str, Any]) -> None:
        restored = QuantileSketch.from_dict(state)
        for name in QuantileSketch.__slots__:
            object.__setattr__(self, name, getattr(restored, name))

    def _key(self, magnitude: float) -> int:
        """Bucket index of a positive magnitude: ``ceil(log_γ(magnitude))``."""
        return math.ceil(math.log(magnitude) / self._ln_gamma)

    def _at(self, q: float) -> tuple[float, float]:
        """(representative value, upper edge) of the bucket of rank ``floor(q (n - 1))``."""
        if not 0 <= q <= 1:
            raise ValueError(f"q must be in [0, 1], got {q}")
        if self._count == 0:
            raise ValueError("quantile of an empty sketch")
        target = math.floor(q * (self._count - 1))
        if target == 0:
            return self._min, self._min
        if target == self._count - 1:
            return self._max, self._max
        seen = 0
        for value, edge, count in self._buckets():
            seen += count
            if seen > target:
                return _clamp(value, self._min, self._max), _clamp(edge, self._min, self._max)
        raise AssertionError("bucket counts do not add up to the count")  # pragma: no cover

    def _buckets(self) -> list[tuple[float, float, int]]:
        """(representative value, upper edge, count) of each bucket, by increasing value."""
        g = self._gamma
        scale = 2 / (1 + g)
        out = [
            (-scale * g**k, -(g ** (k - 1)), c) for k, c in sorted(self._neg.counts.items())[::-1]
        ]
        if self._zero:
            out.append((0.0, 0.0, self._zero))
        out.extend((scale * g**k, g**k, c) for k, c in sorted(self._pos.counts.items()))
        return out


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
