"""Terminal views for operators until the API and dashboard exist: at-risk list and task queue.

Read-only queries against the tables the services maintain; the numbers mean what kpis.md says.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text

from churnwatch_runtime.db import sync_url

AT_RISK = """
SELECT customer_id, band, churn_probability, tier, lifecycle_stage, clv, value_if_retained,
       value_at_risk, reasons, event_time
FROM latest_scores
WHERE band IN ('high', 'critical')
ORDER BY value_at_risk DESC
LIMIT :limit
"""

TASKS = """
SELECT task_id, customer_id, playbook_id, state, tier, value_at_risk, sla_due_at, reasons
FROM tasks
WHERE state IN ('open', 'assigned', 'in_progress')
ORDER BY priority DESC, sla_due_at
LIMIT :limit
"""


def fetch(database_url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def reason_text(reasons: Any, k: int = 2) -> str:
    """The first ``k`` reasons of a score (objects with a ``text``) or a task (plain texts).

    >>> reason_text([{"text": "2 failed payments in a row"}, {"text": "NPS 3"}, {"text": "x"}])
    '2 failed payments in a row; NPS 3'
    >>> reason_text(["no activity for 38 days", "NPS 4 (detractor)", "x"])
    'no activity for 38 days; NPS 4 (detractor)'
    """
    texts = (r if isinstance(r, str) else r.get("text") for r in (reasons or [])[:k])
    return "; ".join(str(t) for t in texts if t)
