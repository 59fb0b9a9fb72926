"""Which simulated history a ``churnwatch demo`` plays: the one already in ``var/``, or a new one.

A second demo used to replay a *new* history (a new start date) on top of the old state — two
histories mixed in one database, the at-risk ranking changed. Now the first demo writes its
history's identity (seed, first simulated day, population) to ``<cw home>/demo/state.json``;
the next one replays the same history from the same first day with the same seed (what was sent
before is dropped by ingest as duplicates) and goes on where it stopped, or, with ``--fresh``,
the local state is wiped and a new history starts. Anything in between is refused with a message.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

__all__ = ["DemoConflict", "DemoState", "Plan", "load", "plan_history", "save", "state_file"]

DEFAULT_SEED = 7


class DemoConflict(RuntimeError):
    """The saved history cannot be continued as asked; the message says what to run instead."""


@dataclass(frozen=True)
class DemoState:
    """The identity of the simulated history in ``var/`` and when a demo last ran it."""

    seed: int
    start: date
    customers: int
    last_seen: datetime | None = None

    def to_json(self) -> dict[str, object]:
        doc = asdict(self)
        doc["start"] = self.start.isoformat()
        doc["last_seen"] = self.last_seen.isoformat() if self.last_seen else None
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, object]) -> DemoState:
        seen = doc.get("last_seen")
        return cls(
            seed=int(str(doc["seed"])),
            start=date.fromisoformat(str(doc["start"])),
            customers=int(str(doc["customers"])),
            last_seen=datetime.fromisoformat(str(seen)) if seen else None,
        )


@dataclass(frozen=True)
class Plan:
    """What to run: ``resume`` (same seed and first day) or ``new``, and the history's length."""

    kind: str
    state: DemoState
    history_days: int


def plan_history(
    saved: DemoState | None,
    *,
    fresh: bool,
    customers: int,
    history_days: int,
    now: datetime,
    dedup_window: timedelta,
    seed: int = DEFAULT_SEED,
) -> Plan:
    """Resume the saved history, or start a new one; `DemoConflict` if neither is safe.

    A resumed history keeps its seed and first day, so it replays ``today - start`` days: the
    part sent before comes back with the same event ids and ingest drops it — only if the last
    run is within ingest's idempotency window (older ids are forgotten: they would count twice).

    >>> now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    >>> first = plan_history(None, fresh=False, customers=2000, history_days=120, now=now,
    ...                      dedup_window=timedelta(days=7))
    >>> first.kind, first.state.start.isoformat(), first.history_days
    ('new', '2025-11-10', 120)
    >>> later = datetime(2026, 3, 12, 9, tzinfo=UTC)
    >>> again = plan_history(replace(first.state, last_seen=now), fresh=False, customers=2000,
    ...                      history_days=30, now=later, dedup_window=timedelta(days=7))
    >>> again.kind, again.state.start == first.state.start, again.history_days
    ('resume', True, 122)
    """
    today = now.astimezone(UTC).date()
    if fresh or saved is None:
        state = DemoState(seed, today - timedelta(days=history_days), customers, now)
        return Plan("new", state, history_days)
    if saved.customers != customers:
        raise DemoConflict(
            f"the demo state under var/ is a history of {saved.customers:,} customers, not"
            f" {customers:,}; run `churnwatch demo --fresh` to wipe it and start over"
        )
    if saved.last_seen is not None and now - saved.last_seen > dedup_window:
        raise DemoConflict(
            f"the demo last ran {saved.last_seen:%Y-%m-%d %H:%M} UTC, longer ago than ingest"
            f" remembers event ids ({dedup_window.days} days): replaying its history would count"
            " old events twice; run `churnwatch demo --fresh` to start a new history"
        )
    days = (today - saved.start).days
    return Plan("resume", replace(saved, last_seen=now), days)


def state_file(home: Path) -> Path:
    return home / "demo" / "state.json"


def load(home: Path) -> DemoState | None:
    """The saved state, or None when there is none (a first demo, or after ``--fresh``)."""
    try:
        return DemoState.from_json(json.loads(state_file(home).read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError) as exc:
        raise DemoConflict(
            f"{state_file(home)} is unreadable ({exc}); run `churnwatch demo --fresh`"
        ) from None


def save(home: Path, state: DemoState) -> None:
    """Write atomically (a crash mid-write leaves the previous state, never half a file)."""
    path = state_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.to_json(), indent=2) + "\n")
    os.replace(tmp, path)
