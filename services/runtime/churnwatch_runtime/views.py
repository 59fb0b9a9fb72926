"""Terminal views for operators: the at-risk list (``churnwatch at-risk``), and the exports
both it and the task queue (``churnwatch tasks``, in `churnwatch_alerts.queue_cli`) print.

Read-only queries against the tables the services maintain; the numbers mean what kpis.md says.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import orjson
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


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return reason_text(value, k=len(value))
    return value


def export(rows: list[dict[str, Any]], fmt: str) -> str:
    """Rows as ``json`` (one array, reasons kept whole) or ``csv`` (reasons joined); ids are
    never shortened, whatever the terminal — for pipes and spreadsheets.

    >>> rows = [{"customer_id": "C-0000001042", "reasons": [{"text": "NPS 3"}], "p": 0.5}]
    >>> print(export(rows, "csv"), end="")
    customer_id,reasons,p
    C-0000001042,NPS 3,0.5
    >>> export(rows, "json")
    '[{"customer_id":"C-0000001042","reasons":[{"text":"NPS 3"}],"p":0.5}]'
    """
    if fmt == "json":
        return orjson.dumps(rows, default=str).decode()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if rows:
        writer.writerow(rows[0].keys())
    for row in rows:
        writer.writerow([_cell(v) for v in row.values()])
    return out.getvalue()
