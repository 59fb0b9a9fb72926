"""Uplift statistics: what a playbook truly changed, measured against its holdout.

For a playbook and segment, treated (``t``) and control (``c``) customers are followed over the
horizon. The **honest save rate** (uplift) is ``retention_t − retention_c`` (= ``churn_c −
churn_t``), with a 95% interval by Newcombe's hybrid score method (method 10 of Newcombe 1998:
Wilson intervals of each proportion, combined by the square-and-add rule). We chose it over the
Wald interval because it keeps its coverage with small arms and rates near 0 or 1 — a 10%
holdout of a small segment is exactly that case — and never leaves [−1, 1].

References
----------
Newcombe R. G. (1998), "Interval estimation for the difference between independent proportions:
comparison of eleven methods", Statistics in Medicine 17, 873-890.
Wilson E. B. (1927), "Probable inference, the law of succession, and statistical inference",
JASA 22, 209-212.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from math import sqrt
from statistics import NormalDist
from typing import Literal

from ._tasks import FINAL_STATES, TaskState

__all__ = [
    "Exposure",
    "Interval",
    "Rate",
    "UpliftReport",
    "newcombe_interval",
    "raw_save_rate",
    "sla_attainment",
    "uplift_reports",
    "wilson_interval",
]


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n``.

    >>> [round(b, 4) for b in wilson_interval(81, 263)]   # Newcombe 1998, example (a)
    [0.2553, 0.3662]
    >>> [round(b, 4) for b in wilson_interval(0, 20)]
    [0.0, 0.1611]
    """
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes}/{n}")
    z = _z(confidence)
    p, z2 = successes / n, z * z
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, center - half), min(1.0, center + half)


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate with its confidence interval."""

    estimate: float
    low: float
    high: float

    def scaled(self, factor: float) -> Interval:
        """The interval times ``factor`` (≥ 0): customers saved = uplift × treated."""
        return Interval(self.estimate * factor, self.low * factor, self.high * factor)

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies in [low, high]."""
        return self.low <= value <= self.high


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95) -> Interval:
    """Difference ``x1/n1 − x2/n2`` with Newcombe's hybrid score interval (method 10).

    >>> i = newcombe_interval(56, 70, 48, 80)   # Newcombe 1998, Table II, example (a)
    >>> round(i.estimate, 4), round(i.low, 4), round(i.high, 4)
    (0.2, 0.0524, 0.3339)
    """
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p1 - p2
    low = d - sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Interval(d, max(-1.0, low), min(1.0, high))


@dataclass(frozen=True, slots=True)
class Exposure:
    """One exposed customer of a playbook, followed over the horizon: its arm, whether it
    churned within the horizon, and its CLV at exposure."""

    playbook_id: str
    segment: str
    arm: Literal["treated", "control"]
    churned: bool
    clv: float = 0.0


@dataclass(frozen=True, slots=True)
class UpliftReport:
    """Treated vs control for one playbook and segment (``segment == "all"``: every segment).

    ``uplift`` is the honest save rate (retention treated − retention control) with its
    interval; ``customers_saved`` = uplift × treated; ``value_saved`` = uplift × Σ CLV of the
    treated (the expected CLV of the customers saved). None when an arm is empty.
    """

    playbook_id: str
    segment: str
    treated: int
    control: int
    churn_treated: float | None
    churn_control: float | None
    uplift: Interval | None
    customers_saved: Interval | None
    value_saved: Interval | None


def _report(playbook: str, segment: str, rows: list[Exposure], confidence: float) -> UpliftReport:
    treated = [r for r in rows if r.arm == "treated"]
    control = [r for r in rows if r.arm == "control"]
    nt, nc = len(treated), len(control)
    churn_t = sum(r.churned for r in treated)
    churn_c = sum(r.churned for r in control)
    if not nt or not nc:
        return UpliftReport(
            playbook, segment, nt, nc,
            churn_t / nt if nt else None, churn_c / nc if nc else None, None, None, None,
        )  # fmt: skip
    uplift = newcombe_interval(nt - churn_t, nt, nc - churn_c, nc, confidence)
    clv_treated = sum(r.clv for r in treated)
    return UpliftReport(
        playbook, segment, nt, nc, churn_t / nt, churn_c / nc,
        uplift, uplift.scaled(nt), uplift.scaled(clv_treated),
    )  # fmt: skip


def uplift_reports(
    exposures: Iterable[Exposure], *, confidence: float = 0.95, total: str = "all"
) -> list[UpliftReport]:
    """One report per playbook and segment, plus one per playbook over all segments
    (named ``total``), sorted by playbook then segment.

    >>> rows = ([Exposure("pb", "gold", "treated", churned=i < 20, clv=100.0) for i in range(100)]
    ...         + [Exposure("pb", "gold", "control", churned=i < 40) for i in range(100)])
    >>> r = uplift_reports(rows)[0]
    >>> r.segment, round(r.uplift.estimate, 2), round(r.customers_saved.estimate), r.value_saved.estimate > 0
    ('all', 0.2, 20, True)
    """  # noqa: E501
    groups: dict[tuple[str, str], list[Exposure]] = defaultdict(list)
    for row in exposures:
        groups[(row.playbook_id, row.segment)].append(row)
        if row.segment != total:
            groups[(row.playbook_id, total)].append(row)
    order = sorted(groups, key=lambda key: (key[0], key[1] != total, key[1]))
    return [_report(pb, seg, groups[(pb, seg)], confidence) for pb, seg in order]


@dataclass(frozen=True, slots=True)
class Rate:
    """``numerator / denominator`` (None when nothing was counted)."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """The rate, or None for 0/0."""
        return self.numerator / self.denominator if self.denominator else None


def raw_save_rate(states: Iterable[TaskState]) -> Rate:
    """Tasks closed as won ÷ tasks closed (every final state counts as closed).

    >>> S = TaskState
    >>> raw_save_rate([S.WON, S.LOST, S.WON, S.NO_CONTACT, S.OPEN]).value
    0.5
    """
    closed = [s for s in states if s in FINAL_STATES]
    return Rate(sum(s == TaskState.WON for s in closed), len(closed))


def sla_attainment(
    tasks: Iterable[tuple[datetime, datetime | None]], start: datetime, end: datetime
) -> Rate:
    """Tasks first contacted by their due time ÷ tasks due in ``[start, end)``; ``tasks`` are
    ``(due_at, first_contact_at)`` pairs.

    >>> from datetime import UTC, datetime
    >>> d = lambda h: datetime(2026, 3, 1, h, tzinfo=UTC)
    >>> sla_attainment([(d(4), d(3)), (d(8), d(9)), (d(10), None), (d(23), d(1))], d(0), d(12))
    Rate(numerator=1, denominator=3)
    """
    due = [(d, c) for d, c in tasks if start <= d < end]
    return Rate(sum(c is not None and c <= d for d, c in due), len(due))
