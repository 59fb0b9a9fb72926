"""The KPI catalogue (name, definition, unit, cuts) and the daily series computed from the
stored aggregates: flows per day and snapshot levels at the end of each day (shared kpis.md).

Levels are never scanned from the population: the end-of-day level of a snapshot metric is
its running total now minus the deltas recorded after that day (`levels`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ._events import CONVERSION_DAYS

CUSTOMER_CUTS = frozenset({"all", "tier", "segment"})
EVENT_CUTS = CUSTOMER_CUTS | {"source"}
TASK_CUTS = frozenset({"all", "tier", "playbook"})

Flows = Mapping[tuple[date, str, str], float]
"""(day, cut value, metric) → the day's flow."""
Levels = Mapping[tuple[date, str, str], float]
"""(day, cut value, metric) → the level at the end of the day."""


@dataclass(frozen=True, slots=True)
class KpiDef:
    name: str
    title: str
    definition: str
    unit: str  # share | count | money | ratio | money_per_tx | tx_per_customer
    cuts: frozenset[str]


def _d(name: str, title: str, definition: str, unit: str, cuts: frozenset[str]) -> KpiDef:
    return KpiDef(name, title, definition, unit, cuts)


KPIS: tuple[KpiDef, ...] = (
    _d("repeat_conversion_rate", "Repeat-customer conversion rate",
       "Of the customers whose first purchase fell on the day (the cohort), the share that made"
       f" a second purchase within {CONVERSION_DAYS} days of the first. Cohorts younger than"
       f" {CONVERSION_DAYS} days are still filling.", "share", EVENT_CUTS),
    _d("repeat_customer_base", "Repeat-customer base",
       "Share of all customers with at least one purchase who have made two or more, at the end"
       " of the day.", "share", CUSTOMER_CUTS),
    _d("transactions_per_repeat_customer", "Transactions per repeat customer",
       "Purchases on the day by repeat customers (their second purchase or later) divided by the"
       " number of repeat customers who purchased that day.", "tx_per_customer", EVENT_CUTS),
    _d("revenue_per_repeat_transaction", "Revenue per transaction of repeat customers",
       "Revenue of repeat customers' purchases on the day divided by their number of purchases"
       " (average order value).", "money_per_tx", EVENT_CUTS),
    _d("revenue", "Revenue", "Purchase amounts on the day minus refunds on the day (amounts in"
       " their own currencies, summed: no conversion table is configured).", "money", EVENT_CUTS),
    _d("churn_rate_subscription", "Churn rate (subscription)",
       "Subscription customers whose subscription ended (lifecycle stage churned) on the day"
       " divided by the customers subscribed at its start.", "share", CUSTOMER_CUTS),
    _d("churn_rate_retail", "Churn rate (retail)",
       "Retail customers who lapsed on the day (crossed the 90-day lapse window with no purchase"
       " or activity) divided by the retail customers active at its start.", "share",
       CUSTOMER_CUTS),
    _d("retention_rate_subscription", "Retention rate (subscription)",
       "1 − the subscription churn rate.", "share", CUSTOMER_CUTS),
    _d("retention_rate_retail", "Retention rate (retail)", "1 − the retail churn rate.",
       "share", CUSTOMER_CUTS),
    _d("net_revenue_retention", "Net revenue retention",
       "Monthly recurring revenue at the end of the day from the customers with recurring"
       " revenue at its start (upgrades, downgrades and churn included) divided by their"
       " recurring revenue at the start. Over a longer period, multiply the daily figures.",
       "ratio", CUSTOMER_CUTS),
    _d("value_at_risk", "Value at risk",
       "Σ churn probability × value (the value if retained) over the customers, at the end of"
       " the day.", "money", CUSTOMER_CUTS),
    _d("customers", "Customers", "Customers scored at least once, at the end of the day.",
       "count", CUSTOMER_CUTS),
    _d("value", "Value", "Σ value if retained over the customers, at the end of the day.",
       "money", CUSTOMER_CUTS),
    _d("subscribers", "Subscribers", "Subscription customers not churned, at the end of the day.",
       "count", CUSTOMER_CUTS),
    _d("cancellations", "Cancellations", "Subscription cancellations and expiries (not renewed,"
       " reason expired) on the day (reasons: GET /v1/kpis/funnel).", "count", EVENT_CUTS),
    _d("save_rate_raw", "Save rate (raw)",
       "Tasks closed as won on the day ÷ tasks closed on the day (not an effect: see the honest"
       " save rate).", "share", TASK_CUTS),
    _d("sla_attainment", "SLA attainment",
       "Tasks first contacted within their SLA ÷ tasks whose SLA fell due on the day.", "share",
       TASK_CUTS),
    _d("honest_save_rate", "Honest save rate",
       "Churn of the holdout controls − churn of the treated customers of the same playbook"
       " (retention uplift over the horizon), with its 95% interval, from the uplift report"
       " of the day (the last one computed that day).", "share", frozenset({"all", "playbook",
       "tier"})),
)  # fmt: skip

BY_NAME = {k.name: k for k in KPIS}


def days_between(first: date, last: date) -> list[date]:
    """
    >>> days_between(date(2026, 1, 30), date(2026, 2, 2))[-1]
    datetime.date(2026, 2, 2)
    """
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def levels(
    now: Mapping[tuple[str, str], float], deltas: Flows, days: Sequence[date]
) -> dict[tuple[date, str, str], float]:
    """End-of-day levels: the total now minus every delta recorded after the day.

    ``deltas`` must hold every delta after ``days[0]`` (also those after ``days[-1]``).

    >>> d1, d2, d3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)
    >>> now = {("all", "customers"): 10.0}
    >>> lv = levels(now, {(d2, "all", "customers"): 3.0, (d3, "all", "customers"): 2.0}, [d1, d2])
    >>> lv[(d1, "all", "customers")], lv[(d2, "all", "customers")]
    (5.0, 8.0)
    """
    after: dict[tuple[str, str], dict[date, float]] = {}
    for (day, cv, metric), x in deltas.items():
        after.setdefault((cv, metric), {})[day] = after.get((cv, metric), {}).get(day, 0.0) + x
    out: dict[tuple[date, str, str], float] = {}
    for key in set(now) | set(after):
        per_day = after.get(key, {})
        later = sum(x for day, x in per_day.items() if day > days[-1]) if per_day else 0.0
        level = now.get(key, 0.0) - later
        for day in reversed(days):
            out[(day, *key)] = level
            level -= per_day.get(day, 0.0)
    return out


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


Calc = Callable[[Flows, Levels, date, str], float | None]


def _f(flows: Flows, day: date, cv: str, metric: str) -> float:
    return flows.get((day, cv, metric), 0.0)


def _prev(lv: Levels, day: date, cv: str, metric: str) -> float:
    return lv.get((day - timedelta(days=1), cv, metric), 0.0)


def _churn(sub: bool) -> Calc:
    flow, base = (
        ("churned_subscriptions", "subscribers") if sub else ("lapsed_retail", "active_retail")
    )
    return lambda f, lv, d, cv: _ratio(_f(f, d, cv, flow), _prev(lv, d, cv, base))


def _retention(sub: bool) -> Calc:
    churn = _churn(sub)

    def calc(f: Flows, lv: Levels, d: date, cv: str) -> float | None:
        c = churn(f, lv, d, cv)
        return None if c is None else 1.0 - c

    return calc


def _nrr(f: Flows, lv: Levels, d: date, cv: str) -> float | None:
    start = _prev(lv, d, cv, "mrr")
    return _ratio(start + _f(f, d, cv, "mrr_change_existing"), start)


CALCS: dict[str, Calc] = {
    "repeat_conversion_rate": lambda f, lv, d, cv: _ratio(
        _f(f, d, cv, "converted"), _f(f, d, cv, "first_purchases")
    ),
    "repeat_customer_base": lambda f, lv, d, cv: _ratio(
        lv.get((d, cv, "repeaters"), 0.0), lv.get((d, cv, "buyers"), 0.0)
    ),
    "transactions_per_repeat_customer": lambda f, lv, d, cv: _ratio(
        _f(f, d, cv, "repeat_purchases"), _f(f, d, cv, "repeat_active")
    ),
    "revenue_per_repeat_transaction": lambda f, lv, d, cv: _ratio(
        _f(f, d, cv, "repeat_revenue"), _f(f, d, cv, "repeat_purchases")
    ),
    "revenue": lambda f, lv, d, cv: _f(f, d, cv, "revenue"),
    "churn_rate_subscription": _churn(True),
    "churn_rate_retail": _churn(False),
    "retention_rate_subscription": _retention(True),
    "retention_rate_retail": _retention(False),
    "net_revenue_retention": _nrr,
    "value_at_risk": lambda f, lv, d, cv: lv.get((d, cv, "value_at_risk"), 0.0),
    "customers": lambda f, lv, d, cv: lv.get((d, cv, "customers"), 0.0),
    "value": lambda f, lv, d, cv: lv.get((d, cv, "value"), 0.0),
    "subscribers": lambda f, lv, d, cv: lv.get((d, cv, "subscribers"), 0.0),
    "cancellations": lambda f, lv, d, cv: _f(f, d, cv, "cancellations"),
}
"""The KPIs computed from ``kpi_daily``/``kpi_totals`` (the task KPIs come from the tasks)."""


def series(
    cut: str, cut_values: Iterable[str], days: Sequence[date], flows: Flows, lv: Levels
) -> list[tuple[KpiDef, dict[str, list[float | None]]]]:
    """Each aggregate KPI available for ``cut``: per cut value, one figure per day.

    >>> d = date(2026, 1, 5)
    >>> flows = {(d, "all", "first_purchases"): 4.0, (d, "all", "converted"): 1.0}
    >>> out = dict((k.name, v) for k, v in series("all", ["all"], [d], flows, {}))
    >>> out["repeat_conversion_rate"], out["repeat_customer_base"]
    ({'all': [0.25]}, {'all': [None]})
    """
    values = sorted(set(cut_values))
    out: list[tuple[KpiDef, dict[str, list[float | None]]]] = []
    for kpi in KPIS:
        calc = CALCS.get(kpi.name)
        if calc is None or cut not in kpi.cuts:
            continue
        out.append((kpi, {cv: [calc(flows, lv, d, cv) for d in days] for cv in values}))
    return out
