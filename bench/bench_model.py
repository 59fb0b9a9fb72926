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
    VocabularyPolicy,
    compare,
    fit_batch_logistic,
    roc_auc,
)
from churnwatch.profile import (
    FEATURE_NAMES,
    ActivityVocabulary,
    CustomerProfile,
    apply,
    feature_vector,
    to_seconds,
)

__all__ = ["BENCHMARKS", "Replay", "ReplayResult", "replay", "replay_social", "roc_auc"]

SEED = 7
CUSTOMERS = 3_000
DAYS = 450
SOCIAL_CUSTOMERS = 2_000
SOCIAL_DAYS = 360
QUICK_CUSTOMERS = 1_000
QUICK_DAYS = 360
SNAPSHOT_EVERY = 7
BURN_IN = 30
EVAL_SHARE = 1 / 3
TOP_ACTIVITIES = 8  # the vocabulary: top activity names by volume over the burn-in
WINDOW_DAYS = 28  # the textbook baseline's recent window
_FAR = datetime(9000, 1, 1, tzinfo=UTC)
_ENDS = {
    EventType.SUBSCRIPTION_CANCELLED: OutcomeKind.CANCELLED,
    EventType.SUBSCRIPTION_EXPIRED: OutcomeKind.EXPIRED,
}


class _Row(Mapping[str, float]):
    """A feature vector seen as a read-only dict (no per-row dict: ~60 floats each)."""

    __slots__ = ("_index", "_names", "_v")

    def __init__(
        self, vector: NDArray[np.float64], names: tuple[str, ...], index: dict[str, int]
    ) -> None:
        self._v, self._names, self._index = vector, names, index

    def __getitem__(self, name: str) -> float:
        return float(self._v[self._index[name]])

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@dataclass(slots=True)
class _Pending:
    snapshot: Snapshot
    vector: NDArray[np.float64]
    textbook: NDArray[np.float64]
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
    textbook_auc: float | None = None
    online_vs_textbook: tuple[float, float, float] | None = None  # diff, 95% low, high
    online_vs_prior: tuple[float, float, float] | None = None
    online_vs_batch: tuple[float, float, float] | None = None
    fallbacks: int = 0
    activities: tuple[str, ...] = ()


class Replay:
    """The event-time replay (module docstring); `run` drives it over the simulator."""

    def __init__(self, days: int, start: datetime) -> None:
        self.resolver = LabelResolver()
        self.policy = SnapshotPolicy()
        self.state = ModelState()
        self.volumes: defaultdict[str, float] = defaultdict(float)
        self.vocab: ActivityVocabulary | None = None
        self.names: tuple[str, ...] = FEATURE_NAMES
        self.index: dict[str, int] = {n: k for k, n in enumerate(FEATURE_NAMES)}
        self.columns: dict[str, int] = {}  # textbook: activity -> column of the ring
        self.customer_row: dict[str, int] = {}
        self.ring = np.zeros((1024, WINDOW_DAYS, 48), dtype=np.float32)
        self.ring_day = -1
        self.eval_textbook: list[NDArray[np.float64]] = []
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
        self.train_textbook: list[NDArray[np.float64]] = []
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
        self._count(c, ev)
        outcomes = []
        if profile.last_activity != before and profile.last_activity == to_seconds(t):
            outcomes.append(OutcomeEvent(OutcomeKind.ACTIVITY, t))
        if ev.event_type in _ENDS:  # the subscription ends at its effective time
            end = getattr(ev.attributes, "effective_at", None) or t
            outcomes.append(OutcomeEvent(_ENDS[ev.event_type], end))
        for event in outcomes:
            for item in self.pending[c]:
                item.outcome = self.resolver.observe(item.snapshot, item.outcome, event)
                self._index(item)
        self._maybe_snapshot(c, profile, t)
        self._resolve(t)

    def _count(self, c: str, ev: object) -> None:
        """Volumes for the vocabulary, and the textbook's per-activity daily counts."""
        etype = ev.event_type  # type: ignore[attr-defined]
        attrs = ev.attributes  # type: ignore[attr-defined]
        weight = 1.0
        name = str(etype.value)
        if etype is EventType.FEATURE_USE:
            weight = float(attrs.count)
            name = f"use:{attrs.feature}"
            if self.vocab is None:
                self.volumes[attrs.feature] += weight
        if etype is EventType.CUSTOMER_PROFILE:
            return
        k = self.columns.get(name)
        if k is None:
            if len(self.columns) >= self.ring.shape[2]:
                return
            k = self.columns[name] = len(self.columns)
        row = self.customer_row.get(c)
        if row is None:
            row = self.customer_row[c] = len(self.customer_row)
            if row >= self.ring.shape[0]:
                self.ring = np.concatenate([self.ring, np.zeros_like(self.ring)])
        day = ev.occurred_at.toordinal()  # type: ignore[attr-defined]
        if day > self.ring_day:
            for d in range(max(self.ring_day + 1, day - WINDOW_DAYS + 1), day + 1):
                self.ring[:, d % WINDOW_DAYS, :] = 0.0
            self.ring_day = day
        if day > self.ring_day - WINDOW_DAYS:
            self.ring[row, day % WINDOW_DAYS, k] += weight

    def _fix_vocabulary(self) -> None:
        # the service's decision (VocabularyPolicy) on the burn-in's volumes
        policy = VocabularyPolicy(top=TOP_ACTIVITIES, min_uses=0.0)
        self.vocab = policy.choose(ActivityVocabulary(()), self.volumes)
        self.names = FEATURE_NAMES + self.vocab.feature_names()
        self.index = {n: k for k, n in enumerate(self.names)}

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
        if self.vocab is None:
            self._fix_vocabulary()
        assert self.vocab is not None
        self.last_day[c] = day
        values = feature_vector(profile, t.timestamp()) + self.vocab.values(profile, t.timestamp())
        vector = np.asarray(values, dtype=np.float64)
        x = dict(zip(self.names, values, strict=True))
        if x["is_subscription"] >= 0.5:
            live = x["subscription_active"] >= 0.5 and x["cancellation_pending"] < 0.5
            snap = Snapshot(c, t, CustomerKind.SUBSCRIPTION, x, active=live)
        else:
            last = t - timedelta(days=x["activity_recency_days"])
            snap = Snapshot(c, t, CustomerKind.RETAIL, x, last_activity_at=last)
        if not self.resolver.eligible(snap):
            return
        row = self.customer_row.get(c)
        counts = self.ring[row].sum(axis=0) if row is not None else np.zeros(self.ring.shape[2])
        textbook = np.append(counts.astype(np.float64), x["tenure_days"])
        item = _Pending(snap, vector, textbook)
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
                self.eval_textbook.append(item.textbook)
            elif label.known_at < self.split:
                self.train.append((item.vector, label.churned))
                self.train_textbook.append(item.textbook)

    def result(self, events: int, seconds: float) -> ReplayResult:
        y = np.array(self.eval_y, dtype=bool)
        online = roc_auc(y, np.array(self.eval_online)) if y.size else None
        learned = np.array(self.eval_learned, dtype=bool)
        learned_only = roc_auc(y[learned], np.array(self.eval_online)[learned])
        batch_auc, batch_p = None, None
        names, index = self.names, self.index
        if self.train and y.size:
            rows = [_Row(v, names, index) for v, _ in self.train]
            fit = fit_batch_logistic(
                rows,
                [lab for _, lab in self.train],
                feature_names=names,
                clip=self.state.config.champion.clip,
            )
            batch_p = fit.predict_proba([_Row(v, names, index) for v in self.eval_vectors])
            batch_auc = roc_auc(y, batch_p)
        textbook_p = None
        if self.train_textbook and y.size:
            train_y = np.array([lab for _, lab in self.train], dtype=bool)
            textbook_p = textbook_baseline(
                np.array(self.train_textbook), train_y, np.array(self.eval_textbook)
            )
        online_p = np.array(self.eval_online)

        def paired(other: NDArray[np.float64] | None) -> tuple[float, float, float] | None:
            if other is None or y.sum() < 2 or (~y).sum() < 2:
                return None
            c = compare(y, other, online_p)
            return (round(c.auc_diff, 4), round(c.auc_low, 4), round(c.auc_high, 4))

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
            textbook_auc=None if textbook_p is None else roc_auc(y, textbook_p),
            online_vs_textbook=paired(textbook_p),
            online_vs_prior=paired(np.array(self.eval_prior)) if y.size else None,
            online_vs_batch=paired(batch_p),
            fallbacks=self.state.fallbacks,
            activities=() if self.vocab is None else self.vocab.names,
        )


def textbook_baseline(
    train_x: NDArray[np.float64],
    train_y: NDArray[np.bool_],
    eval_x: NDArray[np.float64],
    penalties: tuple[float, ...] = (1e-4, 1e-3, 1e-2),
) -> NDArray[np.float64]:
    """The textbook batch churn model: per-activity counts over the last ``WINDOW_DAYS`` days
    plus tenure, standardised, L1-penalised logistic regression (SciPy L-BFGS-B on the split
    weights w = u − v, u, v ≥ 0: no scikit-learn); the penalty chosen on the last fifth of the
    training rows (a time split), then refitted on all of them. Returns eval probabilities."""
    from scipy.optimize import minimize

    mean, sd = train_x.mean(axis=0), train_x.std(axis=0)
    sd[sd == 0] = 1.0

    def fit(x: NDArray[np.float64], y: NDArray[np.bool_], lam: float) -> NDArray[np.float64]:
        z = (x - mean) / sd
        n, k = z.shape
        yy = y.astype(np.float64)

        def loss(theta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
            w = theta[:k] - theta[k : 2 * k]
            eta = z @ w + theta[-1]
            p = 1.0 / (1.0 + np.exp(-eta))
            nll = float(np.mean(np.logaddexp(0.0, eta) - yy * eta))
            g = z.T @ (p - yy) / n
            grad = np.concatenate([g + lam, -g + lam, [float(np.mean(p - yy))]])
            return nll + lam * float(theta[: 2 * k].sum()), grad

        bounds = [(0.0, None)] * (2 * k) + [(None, None)]
        start = np.zeros(2 * k + 1)
        result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
        return np.asarray(result.x, dtype=np.float64)

    def predict(theta: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
        k = x.shape[1]
        eta = ((x - mean) / sd) @ (theta[:k] - theta[k : 2 * k]) + theta[-1]
        return np.asarray(1.0 / (1.0 + np.exp(-eta)), dtype=np.float64)

    cut = int(len(train_y) * 0.8)
    best, best_auc = penalties[0], -1.0
    for lam in penalties:
        auc = roc_auc(train_y[cut:], predict(fit(train_x[:cut], train_y[:cut], lam), train_x[cut:]))
        if auc is not None and auc > best_auc:
            best, best_auc = lam, auc
    return predict(fit(train_x, train_y, best), eval_x)


def replay_social(customers: int, days: int, seed: int = SEED) -> ReplayResult:
    """The same replay over the second business (`churnwatch_sim.social.SocialApp`)."""
    from churnwatch_sim.social import SocialApp

    app = SocialApp(customers, days, seed=seed)
    started, events = time.perf_counter(), 0
    run = Replay(days, app.start_of(0))
    while not app.done:
        day = app.day
        for line in app.step():
            run.on_event(line)
            events += 1
        run.on_day_end(app.start_of(day + 1))
    return run.result(events, time.perf_counter() - started)


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


def _business_metrics(
    business: str, r: ReplayResult, customers: int, days: int, quick: bool
) -> list[Metric]:
    if r.online_auc is None or r.textbook_auc is None or r.prior_auc is None:
        raise RuntimeError(f"no AUC: {r}")
    command = "python -m bench --only model_auc" + (" --quick" if quick else "")

    def interval(pair: tuple[float, float, float] | None) -> str:
        return "n/a" if pair is None else f"{pair[0]:+.4f} [95% {pair[1]:+.4f}, {pair[2]:+.4f}]"

    notes = (
        f"{business}: seed {SEED}, {customers:,} customers, {days} days ({r.events:,} events), "
        f"replayed in-process through the profile (activity vocabulary, top {TOP_ACTIVITIES} by "
        f"volume over the burn-in: {', '.join(r.activities)}), LabelResolver (both outcomes "
        f"learned at t + 30 d) and ModelState (guarded switch: prior until label "
        f"{r.switched_at_label}, {r.fallbacks} fall-backs, {r.promotions} promotions). "
        f"{r.labels:,} labels; evaluation: {r.eval_labels:,} labels ({r.eval_positives:,} "
        f"churned) of snapshots in the last {EVAL_SHARE:.0%} of the days, each scored by the "
        f"served model before it was learned. Baselines fitted on the {r.train_labels:,} labels "
        f"known before that period. Paired DeLong differences, online minus: textbook "
        f"{interval(r.online_vs_textbook)}, prior {interval(r.online_vs_prior)}, L2 batch on the "
        f"same features {interval(r.online_vs_batch)}. {r.seconds:.0f} s wall."
    )
    prefix = f"model_auc_{business}"
    return [
        Metric(
            name=f"{prefix}_online",
            value=round(r.online_auc, 4),
            unit="AUC",
            command=command,
            peer=Reference(
                f"textbook batch (per-activity {WINDOW_DAYS}-day counts + tenure, L1 logistic, "
                "time split), same labels",
                round(r.textbook_auc, 4),
                "AUC",
            ),
            notes=notes + " Goals: online >= textbook batch, never below the prior.",
        ),
        Metric(
            name=f"{prefix}_textbook_baseline",
            value=round(r.textbook_auc, 4),
            unit="AUC",
            command=command,
            notes=(
                f"Per-activity counts (each event type, each feature_use name) over the last "
                f"{WINDOW_DAYS} days + tenure, standardised, L1 logistic regression (penalty "
                f"chosen on the last fifth of the training labels), fitted on the earlier period; "
                f"paired difference online minus this: {interval(r.online_vs_textbook)}."
            ),
        ),
        Metric(
            name=f"{prefix}_batch_same_features",
            value=round(r.batch_auc or float("nan"), 4),
            unit="AUC",
            command=command,
            notes="fit_batch_logistic (L2, clip 5) on the online model's own features.",
        ),
        Metric(
            name=f"{prefix}_prior",
            value=round(r.prior_auc, 4),
            unit="AUC",
            command=command,
            notes=(
                f"The rule prior on the same evaluation labels; online minus prior "
                f"{interval(r.online_vs_prior)}."
            ),
        ),
    ]


def _model(ctx: Context) -> list[Metric]:
    customers = QUICK_CUSTOMERS if ctx.quick else CUSTOMERS
    days = QUICK_DAYS if ctx.quick else DAYS
    social_customers = QUICK_CUSTOMERS if ctx.quick else SOCIAL_CUSTOMERS
    social_days = QUICK_DAYS if ctx.quick else SOCIAL_DAYS
    metrics = _business_metrics("retail", replay(customers, days), customers, days, ctx.quick)
    social = replay_social(social_customers, social_days)
    return metrics + _business_metrics("social", social, social_customers, social_days, ctx.quick)


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
        description=(
            f"online vs textbook batch churn AUC on two simulated businesses: retail/mixed "
            f"{CUSTOMERS:,} x {DAYS} d, social subscription app {SOCIAL_CUSTOMERS:,} x "
            f"{SOCIAL_DAYS} d"
        ),
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
    parser.add_argument("--business", choices=("retail", "social"), default="retail")
    args = parser.parse_args(argv)
    run = replay_social if args.business == "social" else replay
    result = run(args.customers, args.days, args.seed)
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
