"""A snapshot of a worker's health that a service's ``/readyz`` can serve as it is."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """``ready``: running, polled lately, no partition waiting for its offsets, no failing batch."""

    group_id: str
    running: bool
    ready: bool
    assigned: tuple[str, ...]  # "topic:partition" this worker processes
    loading: tuple[str, ...]  # assigned, offsets/caches not loaded yet
    last_poll_at: datetime | None
    last_batch_at: datetime | None
    batches: int
    records: int
    lag: dict[str, int]  # per partition: highwater - next offset (known once fetched)
    failures: int  # consecutive failed batches
    last_error: str | None
    missing_topics: tuple[str, ...] = ()  # subscribed but absent on the broker: not started

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        for key in ("last_poll_at", "last_batch_at"):
            value = doc[key]
            doc[key] = value.isoformat() if value else None
        doc["total_lag"] = sum(self.lag.values())
        return doc
