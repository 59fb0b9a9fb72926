"""Model quality on the simulator (online prequential vs an offline batch baseline) and the CLV
parameters vs ``lifetimes`` on CDNOW.

**What this measures: the model, not the service.** A pure, single-process replay of the domain
code the scoring worker and the learner run, with no Kafka and no PostgreSQL:

1. the simulator's events (fixed seed) in event time → `churnwatch.profile.apply` per customer;
2. snapshots per `SnapshotPolicy` (the first scored moment of a customer's day: an event, or the
   end-of-day silence tick when the customer had none), kept only for live customers
   (`LabelResolver.eligible`) and, to fit the run in a few minutes, one customer-day in
   ``SNAPSHOT_EVERY`` (staggered by customer id), after a ``BURN_IN`` of days;
3. each snapshot's outcome folded from the customer's later events, resolved by `LabelResolver`
   as the event-time watermark (the replay's clock: in order, no lateness) passes its due time;
4. ``model_auc_prequential``: each label is scored by `ModelState.predict` (prior during the cold
   start, then the learned champion) *before* `learn_label`; AUC over the labels of snapshots
   taken in the evaluation period (the last ``EVAL_SHARE`` of the days);
5. ``model_auc_batch_baseline``: `fit_batch_logistic` on every label known before that period
   (same features, same clipping of standardised values as the online learner), scored on the
   same evaluation labels;
6. also reported: ``model_auc_prequential_learned_only`` (the evaluation labels that the learned
   champion, not the cold-start prior, scored; equal to the first when the switch came before
   the evaluation period) and ``model_auc_prior`` (the rule prior on all evaluation labels).

``python -m bench.bench_model --customers 2000 --days 360`` runs the replay alone.
"""

from __future__ import annotations

import argparse
import heapq
import importlib.util
import itertools
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import orjson
from numpy.typing import NDArray

from bench.harness import Benchmark, Context, Metric, Reference, Target
from churnwatch.events import EventType, parse_event
from churnwatch.model import (
    CustomerKind,
    LabelResolver,
    ModelState,
    OutcomeEvent,
    OutcomeKind,
    Snapshot,
    SnapshotOutcome,
    SnapshotPolicy,
    fit_batch_logistic,
    roc_auc,
)
from churnwatch.profile import FEATURE_NAMES, CustomerProfile, apply, feature_vector, to_seconds

SEED = 7
CUSTOMERS = 5_000
DAYS = 540
QUICK_CUSTOMERS = 1_000
QUICK_DAYS = 360
SNAPSHOT_EVERY = 7
BURN_IN = 30
EVAL_SHARE = 1 / 3
_FAR = datetime(9000, 1, 1, tzinfo=UTC)
_INDEX = {name: k for k, name in enumerate(FEATURE_NAMES)}


class _Row(Mapping[str, float]):
    """A feature vector seen as a read-only dict (no per-row dict: ~60 floats each)."""

    __slots__ = ("_v",)

    def __init__(self, vector: NDArray[np.float64]) -> None:
        self._v = vector

    def __getitem__(self, name: str) -> float:
        return float(self._v[_INDEX[name]])

    def __iter__(self) -> Iterator[str]:
        return iter(FEATURE_NAMES)

    def __len__(self) -> int:
        return len(FEATURE_NAMES)


@dataclass(slots=True)
class _Pending:
    snapshot: Snapshot
    vector: NDArray[np.float64]
    outcome: SnapshotOutcome = field(default_factory=SnapshotOutcome)
    due: datetime | None = None
    done: bool = False


@dataclass(frozen=True, slots=True)
class ReplayResult:
    online_auc: float | None
    learned_only_auc: float | None
    eval_learned: int
    batch_auc: float | None
    eval_labels: int
    eval_positives: int
    train_labels: int
    labels: int
    events: int
    seconds: float
    switched_at_label: int | None
    prior_auc: float | None
    champion: str
    promotions: int
    drifts: int


class Replay:
    """The event-time replay (module docstring); `run` drives it over the simulator."""

    def __init__(self, days: int, start: datetime) -> None:
        self.resolver = LabelResolver()
        self.policy = SnapshotPolicy()
        self.state = ModelState()
        self.start = start
        self.split = start + timedelta(days=round(days * (1 - EVAL_SHARE)))
        self.first_snapshot = start + timedelta(days=BURN_IN)
        self.profiles: dict[str, CustomerProfile] = {}
        self.last_day: dict[str, date] = {}
        self.pending: dict[str, list[_Pending]] = defaultdict(list)
        self.heap: list[tuple[datetime, int, _Pending]] = []
        self.seq = itertools.count()
        self.train: list[tuple[NDArray[np.float64], bool]] = []
        self.eval_y: list[bool] = []
        self.eval_online: list[float] = []
        self.eval_learned: list[bool] = []
        self.eval_prior: list[float] = []
        self.eval_vectors: list[NDArray[np.float64]] = []
        self.labels = 0
        self.switched_at: int | None = None

    def on_event(self, line: str) -> None:
        ev = parse_event(line, now=_FAR)
        t, c = ev.occurred_at, ev.customer_id
        profile = self.profiles.get(c)
        if profile is None:
            profile = self.profiles[c] = CustomerProfile()
        before = profile.last_activity
        if not apply(profile, ev):
            return
        outcomes = []
        if profile.last_activity != before and profile.last_activity == to_seconds(t):
            outcomes.append(OutcomeEvent(OutcomeKind.ACTIVITY, t))
        if ev.event_type is EventType.SUBSCRIPTION_CANCELLED:
            outcomes.append(OutcomeEvent(OutcomeKind.CANCELLED, t))
        for event in outcomes:
            for item in self.pending[c]:
                item.outcome = self.resolver.observe(item.snapshot, item.outcome, event)
                self._index(item)
        self._maybe_snapshot(c, profile, t)
        self._resolve(t)

    def on_day_end(self, end: datetime) -> None:
        """The silence tick: customers with no snapshot that day get one at its end."""
        moment = end - timedelta(milliseconds=1)
        for c, profile in self.profiles.items():
            self._maybe_snapshot(c, profile, moment)
        self._resolve(end)

    def _maybe_snapshot(self, c: str, profile: CustomerProfile, t: datetime) -> None:
        day = self.policy.day(t)
        if t < self.first_snapshot or (day.toordinal() + int(c[2:])) % SNAPSHOT_EVERY:
            return
        if not self.policy.admits(self.last_day.get(c), t) or profile.erased:
            return
        self.last_day[c] = day
        vector = np.asarray(feature_vector(profile, t.timestamp()), dtype=np.float64)
        x = dict(zip(FEATURE_NAMES, vector.tolist(), strict=True))
        if x["is_subscription"] >= 0.5:
            live = x["subscription_active"] >= 0.5 and x["cancellation_pending"] < 0.5
            snap = Snapshot(c, t, CustomerKind.SUBSCRIPTION, x, active=live)
        else:
            last = t - timedelta(days=x["activity_recency_days"])
            snap = Snapshot(c, t, CustomerKind.RETAIL, x, last_activity_at=last)
        if not self.resolver.eligible(snap):
            return
        item = _Pending(snap, vector)
        self.pending[c].append(item)
        self._index(item)

    def _index(self, item: _Pending) -> None:
        due = self.resolver.due_at(item.snapshot, item.outcome)
        if due != item.due:
            item.due = due
            heapq.heappush(self.heap, (due, next(self.seq), item))

    def _resolve(self, watermark: datetime) -> None:
        while self.heap and self.heap[0][0] <= watermark:
            due, _, item = heapq.heappop(self.heap)
            if item.done or due != item.due:
                continue  # stale index entry
            label = self.resolver.resolve(item.snapshot, item.outcome, watermark)
            if label is None:
                continue
            item.done = True
            self.pending[label.customer_id].remove(item)
            learned = self.state.learned_active
            p_online = self.state.predict(item.snapshot.features).probability
            self.state.learn_label(item.snapshot, label)
            self.labels += 1
            if self.switched_at is None and self.state.learned_active:
                self.switched_at = self.labels
            if item.snapshot.taken_at >= self.split:
                self.eval_y.append(label.churned)
                self.eval_online.append(p_online)
                self.eval_learned.append(learned)
                self.eval_prior.append(self.state.config.prior.probability(item.snapshot.features))
                self.eval_vectors.append(item.vector)
            elif label.known_at < self.split:
                self.train.append((item.vector, label.churned))

    def result(self, events: int, seconds: float) -> ReplayResult:
        y = np.array(self.eval_y, dtype=bool)
        online = roc_auc(y, np.array(self.eval_online)) if y.size else None
        learned = np.array(self.eval_learned, dtype=bool)
        learned_only = roc_auc(y[learned], np.array(self.eval_online)[learned])
        batch_auc = None
        if self.train and y.size:
            rows = [_Row(v) for v, _ in self.train]
            fit = fit_batch_logistic(
                rows,
                [lab for _, lab in self.train],
                feature_names=FEATURE_NAMES,
                clip=self.state.config.champion.clip,
            )
            batch_auc = roc_auc(y, fit.predict_proba([_Row(v) for v in self.eval_vectors]))
        return ReplayResult(
            online_auc=online,
            learned_only_auc=learned_only,
            eval_learned=int(learned.sum()),
            batch_auc=batch_auc,
            eval_labels=int(y.size),
            eval_positives=int(y.sum()),
            train_labels=len(self.train),
            labels=self.labels,
            events=events,
            seconds=seconds,
            switched_at_label=self.switched_at,
            prior_auc=roc_auc(y, np.array(self.eval_prior)) if y.size else None,
            champion=self.state.champion.spec.name,
            promotions=self.state.promotions,
            drifts=self.state.drifts,
        )


def replay(customers: int, days: int, seed: int = SEED) -> ReplayResult:
    """Simulate and replay in memory (one simulated day at a time); see the module docstring."""
    from churnwatch_sim import SimConfig, Simulator

    config = SimConfig(days=days, seed=seed).with_overrides(**{"population.customers": customers})
    sim = Simulator(config)
    started, events, day = time.perf_counter(), 0, 0
    run = None
    while not sim.done:
        produced = sim.step()
        if run is None:
            run = Replay(days, sim.start_of(0))
        for chunk in produced.chunks(50_000):
            for line in chunk:
                run.on_event(line)
            events += len(chunk)
        day += 1
        run.on_day_end(sim.start_of(day))
    assert run is not None
    return run.result(events, time.perf_counter() - started)


def _available() -> str | None:
    if importlib.util.find_spec("churnwatch_sim") is None:
        return "churnwatch_sim is not installed"
    return None


def _model(ctx: Context) -> list[Metric]:
    customers = QUICK_CUSTOMERS if ctx.quick else CUSTOMERS
    days = QUICK_DAYS if ctx.quick else DAYS
    r = replay(customers, days)
    if r.online_auc is None or r.batch_auc is None:
        raise RuntimeError(f"no AUC: {r}")
    command = "python -m bench --only model_auc" + (" --quick" if ctx.quick else "")
    notes = (
        f"Simulator seed {SEED}, {customers:,} customers, {days} days ({r.events:,} events), "
        f"replayed in-process through the profile, LabelResolver and ModelState (the model, not "
        f"the service: no Kafka/PostgreSQL). Snapshots: first scored moment of a customer-day "
        f"(event or end-of-day silence tick), one customer-day in {SNAPSHOT_EVERY}, after "
        f"{BURN_IN} burn-in days; {r.labels:,} labels learned (prior until label "
        f"{r.switched_at_label}). Evaluation: {r.eval_labels:,} labels ({r.eval_positives:,} "
        f"churned) of snapshots in the last {EVAL_SHARE:.0%} of the days; batch baseline fitted "
        f"on the {r.train_labels:,} labels known before that period. Rule prior on the same "
        f"labels: AUC {r.prior_auc:.3f}; learned champion only ({r.eval_learned:,} labels): "
        f"AUC {r.learned_only_auc:.3f}; champion at the end: {r.champion} ({r.promotions} "
        f"promotions, {r.drifts} drift alarms). {r.seconds:.0f} s wall."
    )
    metrics = [
        Metric(
            name="model_auc_prequential",
            value=round(r.online_auc, 4),
            unit="AUC",
            command=command,
            peer=Reference("batch logistic baseline, same labels", round(r.batch_auc, 4), "AUC"),
            notes=notes + " Goal: online >= batch.",
        ),
        Metric(
            name="model_auc_batch_baseline",
            value=round(r.batch_auc, 4),
            unit="AUC",
            command=command,
            notes=(
                "fit_batch_logistic (L2 1e-3, standardised values clipped to +-5 as in the "
                "online learner) on the earlier period; see model_auc_prequential."
            ),
        ),
    ]
    if r.learned_only_auc is not None:
        metrics.append(
            Metric(
                name="model_auc_prequential_learned_only",
                value=round(r.learned_only_auc, 4),
                unit="AUC",
                command=command,
                notes=(
                    f"model_auc_prequential restricted to the {r.eval_learned:,} evaluation labels "
                    f"scored by the learned champion (not the cold-start prior)."
                ),
            )
        )
    if r.prior_auc is not None:
        metrics.append(
            Metric(
                name="model_auc_prior",
                value=round(r.prior_auc, 4),
                unit="AUC",
                command=command,
                notes="The rule prior (prior-v1) on the same evaluation labels.",
            )
        )
    return metrics


def _clv(ctx: Context) -> list[Metric]:
    from tests.unit.value.cdnow import clv_param_max_rel_err_vs_lifetimes

    started = time.perf_counter()
    err = float(clv_param_max_rel_err_vs_lifetimes())
    return [
        Metric(
            name="clv_param_max_rel_err_vs_lifetimes",
            value=err,
            unit="",
            command="python -m bench --only clv_param_max_rel_err_vs_lifetimes",
            target=Target("<=", 0.01),
            notes=(
                "Largest relative difference of the 7 BG/NBD + Gamma-Gamma parameters fitted on "
                "CDNOW by churnwatch.value vs lifetimes 0.11.3 "
                f"(tests/unit/value/cdnow.py), {time.perf_counter() - started:.1f} s."
            ),
        )
    ]


def _clv_available() -> str | None:
    if importlib.util.find_spec("lifetimes") is None:
        return "lifetimes (the reference and the CDNOW file) is not installed"
    return None


BENCHMARKS = [
    Benchmark(
        name="model_auc",
        run=_model,
        available=_available,
        description=f"online vs batch churn AUC, simulator {CUSTOMERS:,} customers x {DAYS} days",
    ),
    Benchmark(
        name="clv_param_max_rel_err_vs_lifetimes",
        run=_clv,
        available=_clv_available,
        description="CLV population parameters vs lifetimes on CDNOW",
    ),
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_model")
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    result = replay(args.customers, args.days, args.seed)
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
