"""Held-out AUC when the worker keeps a label snapshot per customer only every ``gap`` days.

The model benchmark's replay (`bench.bench_model.Replay`: the simulator's events through the
profile, `LabelResolver` and `ModelState`, no I/O), with one change: every customer-day is a
candidate snapshot, the model *learns* only those a `SnapshotPolicy(min_gap_days=gap)` keeps,
and it is *evaluated* on every customer-day of the last third of the days, whatever the gap: the
same held-out labels for each gap, so the AUCs compare the training policies only.

``python -m bench.label_sampling --customers 2000 --days 360 --gaps 1 7 14``
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime

import numpy as np
import orjson

from bench import bench_model
from bench.bench_model import Replay, roc_auc
from churnwatch.model import SnapshotPolicy
from churnwatch.profile import CustomerProfile


class SampledReplay(Replay):
    """`Replay` learning only the snapshots the gap policy keeps (evaluation unchanged)."""

    def __init__(self, days: int, start: datetime, gap: int) -> None:
        super().__init__(days, start)
        self.gap_policy = SnapshotPolicy(min_gap_days=gap)
        self.learn_day: dict[str, date] = {}
        self.not_learned: set[int] = set()
        self.learned_labels = 0

    def _maybe_snapshot(self, c: str, profile: CustomerProfile, t: datetime) -> None:
        before = len(self.pending[c])
        super()._maybe_snapshot(c, profile, t)
        if len(self.pending[c]) == before:
            return
        item = self.pending[c][-1]
        if self.gap_policy.admits(self.learn_day.get(c), t):
            self.learn_day[c] = self.gap_policy.day(t)
        elif t < self.split:  # neither learned nor evaluated: as if never taken
            self.pending[c].pop()
            item.done = True
        else:
            self.not_learned.add(id(item))

    def _resolve(self, watermark: datetime) -> None:
        import heapq

        while self.heap and self.heap[0][0] <= watermark:
            due, _, item = heapq.heappop(self.heap)
            if item.done or due != item.due:
                continue
            label = self.resolver.resolve(item.snapshot, item.outcome, watermark)
            if label is None:
                continue
            item.done = True
            self.pending[label.customer_id].remove(item)
            learned = self.state.learned_active
            p_online = self.state.predict(item.snapshot.features).probability
            if id(item) not in self.not_learned:
                self.state.learn_label(item.snapshot, label)
                self.learned_labels += 1
            self.labels += 1
            if item.snapshot.taken_at >= self.split:
                self.eval_y.append(label.churned)
                self.eval_online.append(p_online)
                self.eval_learned.append(learned)


def run(customers: int, days: int, gap: int, seed: int = bench_model.SEED) -> dict[str, float]:
    from churnwatch_sim import SimConfig, Simulator

    bench_model.SNAPSHOT_EVERY = 1  # every customer-day is a candidate
    config = SimConfig(days=days, seed=seed).with_overrides(**{"population.customers": customers})
    sim = Simulator(config)
    started, day = time.perf_counter(), 0
    replay: SampledReplay | None = None
    while not sim.done:
        produced = sim.step()
        if replay is None:
            replay = SampledReplay(days, sim.start_of(0), gap)
        for chunk in produced.chunks(50_000):
            for line in chunk:
                replay.on_event(line)
        day += 1
        replay.on_day_end(sim.start_of(day))
    assert replay is not None
    y = np.array(replay.eval_y, dtype=bool)
    return {
        "gap_days": gap,
        "auc": round(float(roc_auc(y, np.array(replay.eval_online)) or float("nan")), 4),
        "eval_labels": int(y.size),
        "eval_positives": int(y.sum()),
        "learned_labels": replay.learned_labels,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.label_sampling")
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=360)
    parser.add_argument("--gaps", type=int, nargs="+", default=[1, 7, 14])
    args = parser.parse_args(argv)
    for gap in args.gaps:
        print(orjson.dumps(run(args.customers, args.days, gap)).decode(), flush=True)


if __name__ == "__main__":
    main()
