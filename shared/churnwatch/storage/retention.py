"""How long each history table keeps its rows, as cut-off times (pure; the job deletes).

Two clocks: ``score_history`` and ``lifecycle_transitions`` are dated in **event time**, so their
cut-off follows the scoring watermark (a replay of last year's events is not deleted on arrival,
and a stalled pipeline deletes nothing it has not superseded); the rest are dated by the wall
clock when they were written (task steps, webhook attempts, resolved exposures, learned
snapshots). ``None`` keeps a table forever.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

__all__ = ["EVENT_TIME_TABLES", "RetentionPolicy"]

EVENT_TIME_TABLES = frozenset({"score_history", "lifecycle_transitions"})


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Days each table keeps a row after its time column (``None``: forever).

    >>> RetentionPolicy(label_snapshots=0.0).label_snapshots
    0.0
    >>> RetentionPolicy(score_history=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: retention of score_history must be >= 0 days or None, got -1.0
    """

    label_snapshots: float | None = 7.0  # after the learner resolved (and learned) them
    score_history: float | None = 180.0
    lifecycle_transitions: float | None = 365.0
    task_audit: float | None = 365.0  # steps of closed tasks only
    webhook_deliveries: float | None = 30.0  # delivered or dead ones only
    exposures: float | None = 400.0  # resolved ones only: the uplift window

    def __post_init__(self) -> None:
        for f in fields(self):
            days = getattr(self, f.name)
            if days is not None and days < 0:
                raise ValueError(f"retention of {f.name} must be >= 0 days or None, got {days}")

    def cutoffs(self, now: datetime, watermark: datetime | None) -> dict[str, datetime]:
        """Per table, the time before which rows go; a table kept forever is absent, and so are
        the event-time tables while there is no watermark yet.

        >>> from datetime import UTC
        >>> now = datetime(2026, 6, 1, tzinfo=UTC)
        >>> cuts = RetentionPolicy().cutoffs(now, watermark=datetime(2025, 1, 1, tzinfo=UTC))
        >>> cuts["score_history"].date(), cuts["webhook_deliveries"].date()
        (datetime.date(2024, 7, 5), datetime.date(2026, 5, 2))
        >>> sorted(RetentionPolicy(exposures=None).cutoffs(now, None))
        ['label_snapshots', 'task_audit', 'webhook_deliveries']
        """
        out: dict[str, datetime] = {}
        for f in fields(self):
            days = getattr(self, f.name)
            if days is None:
                continue
            clock = watermark if f.name in EVENT_TIME_TABLES else now
            if clock is not None:
                out[f.name] = clock - timedelta(days=days)
        return out
