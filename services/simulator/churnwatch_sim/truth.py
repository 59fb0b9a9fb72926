"""The ground truth of a run, written as CSV files while it runs (nothing is kept in memory).

Files in the truth directory (columns are documented in ``docs/simulator.md``):

- ``config.json``     the full configuration, seed and run tag
- ``daily.csv``       per day: alive, events, revenue, churns and expected churns per cause
- ``churns.csv``      every churn, reactivation and erasure with its time and cause
- ``hazard.csv``      every ``hazard_every`` days, per living customer: true daily hazard,
                      90-day churn probability, dominant cause, segment, true remaining CLV
- ``actions.csv``     every action applied: segment, P(churn) without/with it, true uplift, outcome
- ``uplift.csv``      at each snapshot: expected true uplift per action type, kind and segment
- ``customers.csv``   at the end, per customer: hidden traits, churn times and causes, revenue,
                      true remaining CLV
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson
from numpy.typing import NDArray

__all__ = ["TruthWriter", "csv_rows"]

_HEADERS = {
    "churns": "day,occurred_at,customer_id,kind,event,cause",
    "hazard": "day,customer_id,kind,daily_hazard,p_churn_90d,top_cause,segment,clv,revenue",
    "actions": "action_id,customer_id,action_type,day,kind,segment,alive,p_churn_control,"
    "p_churn_treated,true_uplift,annoyed,complaint_resolved,payment_fixed,reactivated",
    "uplift": "day,action_type,kind,segment,customers,mean_p_churn_control,mean_true_uplift",
}


def csv_rows(template: str, columns: Sequence[Sequence[Any] | NDArray[Any]]) -> str:
    """Lines of ``template % row`` for the rows of ``columns`` (each line ends with a newline).

    >>> csv_rows("%s,%d", [["a", "b"], np.array([1, 2])])
    'a,1\\nb,2\\n'
    """
    cols = [c.tolist() if isinstance(c, np.ndarray) else c for c in columns]
    line = template + "\n"
    return "".join([line % row for row in zip(*cols, strict=True)])


class TruthWriter:
    """Appends truth rows to the files above under ``directory`` (created if missing)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, IO[str]] = {}

    def _file(self, name: str, header: str) -> IO[str]:
        fh = self._files.get(name)
        if fh is None:
            fh = (self.directory / f"{name}.csv").open("w", encoding="ascii", newline="")
            fh.write(header + "\n")
            self._files[name] = fh
        return fh

    def config(self, data: dict[str, Any]) -> None:
        path = self.directory / "config.json"
        path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))

    def write(self, name: str, template: str, columns: Sequence[Any], header: str = "") -> None:
        """Append rows to ``name``.csv (``header`` is used when the file is first opened)."""
        self._file(name, header or _HEADERS[name]).write(csv_rows(template, columns))

    def daily(self, row: dict[str, Any]) -> None:
        fh = self._file("daily", ",".join(row))
        fh.write(",".join(_cell(v) for v in row.values()) + "\n")

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()


def _cell(value: Any) -> str:
    """CSV text of one value (floats with 6 significant digits).

    >>> _cell(0.123456789), _cell(3), _cell("x")
    ('0.123457', '3', 'x')
    """
    return f"{value:.6g}" if isinstance(value, float) else str(value)
