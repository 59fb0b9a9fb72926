"""Measure the profile on a stream of events: apply + features throughput, state sizes, codec.

    python -m tests.unit.profile.measure events.jsonl      # e.g. the simulator's output:
    churnwatch simulate run --customers 2000 --days 365 --seed 3 --out events.jsonl
    python -m tests.unit.profile.measure                   # synthetic histories (support.py)

Events are parsed (pydantic) outside the timed loop, in chunks, so the figure is what a scoring
worker spends per event in this package: dedup, apply, and the full feature vector.
"""

from __future__ import annotations

import itertools
import statistics
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from churnwatch.events import Event
from churnwatch.profile import CustomerProfile, apply, features

from .support import realistic_history

CHUNK = 100_000


def chunks_from_file(path: Path) -> Iterator[list[Any]]:
    adapter: TypeAdapter[Event] = TypeAdapter(Event)
    with path.open("rb") as lines:
        while batch := list(itertools.islice(lines, CHUNK)):
            yield [adapter.validate_json(line) for line in batch]


def synthetic_chunks(customers: int = 300) -> Iterator[list[Any]]:
    events: list[Any] = []
    for seed in range(customers):
        for e in realistic_history(seed):
            events.append(e.model_copy(update={"customer_id": f"C-{seed}"}))
    events.sort(key=lambda e: e.occurred_at)
    for start in range(0, len(events), CHUNK):
        yield events[start : start + CHUNK]


def measure(chunks: Iterable[list[Any]]) -> dict[str, float]:
    profiles: dict[str, CustomerProfile] = {}
    spent, count = 0.0, 0
    for chunk in chunks:
        began = time.perf_counter()
        for e in chunk:
            profile = profiles.get(e.customer_id)
            if profile is None:
                profile = profiles[e.customer_id] = CustomerProfile()
            if apply(profile, e):
                features(profile, e.occurred_at)
        spent += time.perf_counter() - began
        count += len(chunk)
    sizes = sorted(len(p.to_bytes()) for p in profiles.values())
    began = time.perf_counter()
    blobs = [p.to_bytes() for p in profiles.values()]
    encoded = time.perf_counter() - began
    began = time.perf_counter()
    decoded = [CustomerProfile.from_bytes(b) for b in blobs]
    decode_time = time.perf_counter() - began
    assert decoded == list(profiles.values())
    return {
        "events": count,
        "customers": len(profiles),
        "events_per_s": count / spent,
        "state_bytes_median": statistics.median(sizes),
        "state_bytes_p99": sizes[int(0.99 * (len(sizes) - 1))],
        "state_bytes_max": sizes[-1],
        "to_bytes_us": encoded / len(blobs) * 1e6,
        "from_bytes_us": decode_time / len(blobs) * 1e6,
    }


def main(argv: list[str]) -> None:
    chunks = chunks_from_file(Path(argv[0])) if argv else synthetic_chunks()
    for name, value in measure(chunks).items():
        print(f"{name:20} {value:,.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
