"""Reading uplift: the newest job run's reports, and what is known before the first report.

The uplift job (`churnwatch_alerts.uplift`) writes reports hourly, and an exposure counts only
once its horizon has passed — so for the first hour (and for a new playbook until the next run)
there was nothing to show. `early_counts` answers from the experiment log itself: exposures per
arm and tier since the first one, how many are resolved and how many of those churned. No rate or
interval is claimed from them (that is the job's, once enough are resolved). Shared by
``churnwatch uplift`` and the API; the SQL is in `churnwatch_alerts.store.uplift`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch_alerts.store.uplift import exposure_counts, latest_report_rows
from churnwatch_alerts.uplift import ALL

__all__ = ["EarlyCount", "early_counts", "latest_reports"]


async def latest_reports(
    conn: AsyncConnection, playbook: str | None = None
) -> list[dict[str, Any]]:
    """The rows of the newest run (``all`` first per playbook), optionally of one playbook."""
    return await latest_report_rows(conn, playbook)


@dataclass(frozen=True, slots=True)
class EarlyCount:
    """One playbook and segment (tier at exposure, or ``all``): counts per arm so far."""

    playbook_id: str
    segment: str
    treated: int = 0
    control: int = 0
    resolved_treated: int = 0
    resolved_control: int = 0
    churned_treated: int = 0
    churned_control: int = 0
    first_exposed_at: datetime | None = None
    last_exposed_at: datetime | None = None


async def early_counts(conn: AsyncConnection, playbook: str | None = None) -> list[EarlyCount]:
    """Exposure counts per playbook, segment and arm, from the first exposure on."""
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for r in await exposure_counts(conn, playbook):
        key = (r.playbook_id, r.segment or ALL)
        cell = cells.setdefault(key, {"playbook_id": key[0], "segment": key[1]})
        arm = "treated" if r.arm == "treated" else "control"
        cell[arm] = r.exposed
        cell[f"resolved_{arm}"] = r.resolved
        cell[f"churned_{arm}"] = r.churned
        for end, pick in (("first_exposed_at", min), ("last_exposed_at", max)):
            value = getattr(r, end)
            cell[end] = value if cell.get(end) is None else pick(cell[end], value)
    return [EarlyCount(**cells[k]) for k in sorted(cells, key=lambda k: (k[0], k[1] != ALL, k[1]))]
