"""KPIs kept as incremental aggregates (docs/kpis-as-built.md; definitions: shared kpis.md).

Pure: the per-customer state and its deltas (`CustomerState`, `state_delta`), the flows of
applied events (`capture`, `event_flows`), one batch's deltas (`batch_deltas`), the KPI
catalogue and the series it computes from the stored aggregates (`KPIS`, `series`), and the
data-quality tallies (`quality_rows`).
"""

from ._batch import DailyKey, Deltas, Move, TotalKey, batch_deltas
from ._catalog import BY_NAME, CALCS, KPIS, KpiDef, days_between, levels, series
from ._events import CONVERSION_DAYS, EventFact, capture, event_flows
from ._state import CustomerState, Key, active_retail, contributions, state_delta, subscribed

__all__ = [
    "BY_NAME",
    "CALCS",
    "CONVERSION_DAYS",
    "KPIS",
    "CustomerState",
    "DailyKey",
    "Deltas",
    "EventFact",
    "Key",
    "KpiDef",
    "Move",
    "TotalKey",
    "active_retail",
    "batch_deltas",
    "capture",
    "contributions",
    "days_between",
    "event_flows",
    "levels",
    "series",
    "state_delta",
    "subscribed",
]
