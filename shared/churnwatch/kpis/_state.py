"""A customer's contribution to the running KPI totals, and the delta between two of them.

Snapshot-type KPIs (customers and value by tier, the RFM grid, the lifecycle funnel, value at
risk, subscribers, recurring revenue) are sums over customers of a small per-customer state.
They are kept incrementally: when scoring moves a customer from state ``old`` to ``new``, the
totals change by ``contributions(new) - contributions(old)`` — no scan of the population.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

Key = tuple[str, str, str]
"""(cut, cut value, metric) — e.g. ``("tier", "gold", "customers")``."""

LAPSED, CHURNED = "lapsed", "churned"
_OUT = frozenset({LAPSED, CHURNED})


@dataclass(frozen=True, slots=True)
class CustomerState:
    """What the KPI totals know of one customer (stored packed in ``kpi_customer_state``).

    ``purchases`` is capped at 2 (only "buyer" and "repeat buyer" matter); ``value`` is the value
    basis tiers rank (value if retained by default); ``mrr`` is the monthly recurring revenue of
    an active subscription, else 0; ``rfm_r``/``rfm_f`` are the quintile scores (0: none).
    """

    tier: str
    segment: str
    stage: str
    band: str
    model: str  # retail | subscription
    value: float
    value_at_risk: float
    mrr: float
    purchases: int = 0
    last_purchase: date | None = None
    rfm_r: int = 0
    rfm_f: int = 0

    def cuts(self) -> tuple[tuple[str, str], ...]:
        """The cuts this customer is counted in (source is a property of events, not customers).

        >>> CustomerState("gold", "", "new", "low", "retail", 1, 0, 0).cuts()
        (('all', 'all'), ('tier', 'gold'), ('segment', 'none'))
        """
        return (("all", "all"), ("tier", self.tier), ("segment", self.segment or "none"))

    def pack(self) -> str:
        """One text column; `unpack` reverses it exactly (floats by ``repr``).

        >>> s = CustomerState("gold", "loyal", "repeat", "low", "retail", 12.5, 0.25, 0.0, 2,
        ...                   date(2026, 1, 5), 4, 5)
        >>> s.pack()
        'gold|loyal|repeat|low|retail|12.5|0.25|0.0|2|2026-01-05|4|5'
        >>> CustomerState.unpack(s.pack()) == s
        True
        """
        last = self.last_purchase.isoformat() if self.last_purchase else ""
        return "|".join(
            (self.tier, self.segment, self.stage, self.band, self.model, repr(self.value),
             repr(self.value_at_risk), repr(self.mrr), str(self.purchases), last,
             str(self.rfm_r), str(self.rfm_f))
        )  # fmt: skip

    @classmethod
    def unpack(cls, text: str) -> CustomerState:
        f = text.split("|")
        return cls(
            f[0], f[1], f[2], f[3], f[4], float(f[5]), float(f[6]), float(f[7]), int(f[8]),
            date.fromisoformat(f[9]) if f[9] else None, int(f[10]), int(f[11]),
        )  # fmt: skip

    def with_purchase(self, day: date) -> CustomerState:
        """After a purchase on ``day`` (the count stops at 2)."""
        last = day if self.last_purchase is None else max(day, self.last_purchase)
        return replace(self, purchases=min(self.purchases + 1, 2), last_purchase=last)


def active_retail(s: CustomerState) -> bool:
    """A retail customer not lapsed (nor churned): the denominator of the retail churn rate."""
    return s.model == "retail" and s.stage not in _OUT and s.stage != "none"


def subscribed(s: CustomerState) -> bool:
    """A subscription customer whose subscription has not ended."""
    return s.model == "subscription" and s.stage != CHURNED and s.stage != "none"


def contributions(s: CustomerState) -> Iterator[tuple[Key, float]]:
    """Every running total this customer adds to (zeros left out).

    >>> s = CustomerState("gold", "loyal", "repeat", "low", "retail", 100.0, 5.0, 0.0, 2,
    ...                   None, 4, 5)
    >>> sorted(k[2] for k, _ in contributions(s) if k[0] == "tier")
    ... # doctest: +NORMALIZE_WHITESPACE
    ['active_retail', 'band:low', 'buyers', 'customers', 'repeaters', 'stage:repeat', 'value',
     'value_at_risk']
    >>> [(k, v) for k, v in contributions(s) if k[2].startswith("rf:")]
    [(('all', 'all', 'rf:4:5'), 1.0)]
    """
    metrics: list[tuple[str, float]] = [
        ("customers", 1.0),
        ("value", s.value),
        ("value_at_risk", s.value_at_risk),
        (f"stage:{s.stage}", 1.0),
        (f"band:{s.band}", 1.0),
        ("buyers", float(s.purchases >= 1)),
        ("repeaters", float(s.purchases >= 2)),
        ("active_retail", float(active_retail(s))),
        ("subscribers", float(subscribed(s))),
        ("mrr", s.mrr),
    ]
    for cut, value in s.cuts():
        for metric, amount in metrics:
            if amount:
                yield (cut, value, metric), amount
    if s.rfm_r and s.rfm_f:
        yield ("all", "all", f"rf:{s.rfm_r}:{s.rfm_f}"), 1.0


def state_delta(old: CustomerState | None, new: CustomerState | None) -> dict[Key, float]:
    """``contributions(new) - contributions(old)``, without the keys that cancel out.

    >>> a = CustomerState("gold", "loyal", "active", "low", "retail", 100.0, 5.0, 0.0)
    >>> b = replace(a, tier="silver", value_at_risk=7.0)
    >>> d = state_delta(a, b)
    >>> d[("tier", "gold", "customers")], d[("tier", "silver", "customers")]
    (-1.0, 1.0)
    >>> d[("all", "all", "value_at_risk")]
    2.0
    >>> ("all", "all", "customers") in d
    False
    """
    if old is not None and new is not None and same_cells(old, new):
        return _numeric_delta(old, new)  # the common case: only the amounts moved
    out: dict[Key, float] = {}
    if old is not None:
        for key, amount in contributions(old):
            out[key] = out.get(key, 0.0) - amount
    if new is not None:
        for key, amount in contributions(new):
            out[key] = out.get(key, 0.0) + amount
    return {k: v for k, v in out.items() if v != 0.0}


def same_cells(a: CustomerState, b: CustomerState) -> bool:
    """Both states count in the same cells (cut values, stage, band, counts): only their
    amounts (value, value at risk, MRR) differ."""
    return (
        a.tier == b.tier and a.segment == b.segment and a.stage == b.stage and a.band == b.band
        and a.model == b.model and a.purchases == b.purchases and a.rfm_r == b.rfm_r
        and a.rfm_f == b.rfm_f and (a.mrr > 0) == (b.mrr > 0)
    )  # fmt: skip


def _numeric_delta(old: CustomerState, new: CustomerState) -> dict[Key, float]:
    """`state_delta` when every count is unchanged: value, value at risk and MRR per cut.

    >>> a = CustomerState("gold", "", "active", "low", "retail", 10.0, 1.0, 0.0)
    >>> sorted(_numeric_delta(a, replace(a, value=12.0)).items())  # doctest: +NORMALIZE_WHITESPACE
    [(('all', 'all', 'value'), 2.0), (('segment', 'none', 'value'), 2.0),
     (('tier', 'gold', 'value'), 2.0)]
    """
    moves = (
        ("value", new.value - old.value),
        ("value_at_risk", new.value_at_risk - old.value_at_risk),
        ("mrr", new.mrr - old.mrr),
    )
    return {
        (cut, value, metric): amount
        for cut, value in new.cuts()
        for metric, amount in moves
        if amount != 0.0
    }
