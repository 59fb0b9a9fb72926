"""Measured uplift of the default save-team playbook vs the simulator's true uplift.

**A closed loop in pure domain code, no Kafka and no PostgreSQL**: one process runs, day by
simulated day,

1. the simulator (`churnwatch_sim.Simulator.step`) → each event through `churnwatch.profile.apply`
   (and the retail CLV statistics), exactly as the scoring worker folds them;
2. scoring with the scoring service's own pure code (`score_customer` + `finish`: the rule prior
   of `ModelState`, bands, lifecycle, CLV from `churnwatch.value` with the default CDNOW
   parameters, tiers against the live population): every customer with events that day once, at
   their last event, plus the silence rescores that `next_due` asks for (the scoring service's
   due-time index), at the end of the day;
3. the alerts service's own pure planner (`plan_batch`: the six default playbooks, guardrails,
   the deterministic holdout) on those score records;
4. every treated action back into the simulator with `apply_action` (it takes effect from the
   next simulated day), and every exposure (both arms) logged with the simulator's oracle: the
   true uplift of that action for that customer at that moment (`treatment.uplift`, the same
   numbers as ``actions.csv``; for held-out customers computed without applying anything);
5. after the horizon (30 days, the alerts default; the simulator's truth horizon is set to the
   same) each exposure is resolved twice: as the alerts uplift job resolves it from the profile
   (`churnwatch_alerts.uplift.churned_by`, when `resolvable_at` allows: cancellation decided,
   retail last activity in the horizon then a lapse, erased) and by the simulator's realised
   churn (what actually happened).

The measured uplift (Newcombe interval, `uplift_reports`) of ``save_call_vip`` over its resolved
exposures is compared with the mean true uplift of the same customers (both arms: the holdout
estimates the average effect over everyone the playbook reached).

``python -m bench.bench_uplift --customers 5000 --days 200`` runs the loop alone.
"""

from __future__ import annotations

import argparse
import heapq
import importlib.util
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from bench.harness import Benchmark, Context, Metric, Reference
from churnwatch.alerts import (
    Exposure,
    Interval,
    Playbook,
    UpliftReport,
    default_playbooks,
    uplift_reports,
)
from churnwatch.events import CustomerErasedEvent, PurchaseEvent, parse_event
from churnwatch.model import ModelConfig, ModelState, Scorer
from churnwatch.profile import CustomerProfile, apply
from churnwatch.value import update

if TYPE_CHECKING:
    from churnwatch_sim import ActionResult

SEED = 11
CUSTOMERS = 20_000
DAYS = 365
QUICK_CUSTOMERS = 2_000
QUICK_DAYS = 120
HORIZON_DAYS = 30
PLAYBOOK = "save_call_vip"
HOLDOUT = 0.5  # the measured playbook's control share in this benchmark (bench_playbooks)
LAPSE_DAYS = 90  # churned_by's default: the lifecycle's lapse window
SHARDS = 2


def bench_playbooks(holdout: float | None = None) -> list[Playbook]:
    """The six shipped defaults (``save_call_vip``: high/critical band and tier gold or
    platinum), with the measured playbook's holdout share set to ``holdout`` if given.

    Why a holdout option: the VIP save call is rare by design (gold/platinum customers who turn
    high-risk; about 1 in 20 of the entries into the high band), so at the shipped 10% the
    control arm of any run this machine can simulate holds a few dozen customers. A business
    measuring a playbook raises its holdout the same way (`holdout` allows up to 0.5); trigger,
    condition, action, cooldown and guardrails stay as shipped. Until 2026-11-23 the tier
    condition had to be lifted instead: tiers came from the risk-discounted CLV and customers at
    risk were almost never gold or platinum (docs/scoring.md "Value basis").
    """
    out: list[Playbook] = []
    for pb in default_playbooks():
        if pb.id == PLAYBOOK and holdout is not None:
            pb = pb.model_copy(update={"holdout": holdout})
        out.append(pb)
    return out


_FAR = datetime(9000, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class _Exposed:
    customer: int
    customer_id: str
    arm: str
    day: int  # the simulated day of the score; the action acts from day + 1
    at: datetime
    alive: bool
    true_uplift: float
    p_churn_control: float
    tier: str
    clv: float
    observed: bool | None = None
    realised: bool | None = None


@dataclass(frozen=True, slots=True)
class Shard:
    """One independent closed loop (a population of its own, its own seed)."""

    seed: int
    customers: int
    days: int
    events: int
    scores: int
    seconds: float
    exposures: dict[str, dict[str, int]]
    suppressed: dict[str, dict[str, int]]
    resolved: list[tuple[str, str, bool, bool, float, float, float, bool]]
    """(arm, tier, churned as the uplift job sees it, churned in truth, true uplift, true
    P(churn) without the action, CLV, alive at exposure) per resolved exposure of the measured
    playbook"""


@dataclass(frozen=True, slots=True)
class LoopResult:
    shards: list[Shard]
    observed: UpliftReport
    realised: UpliftReport
    true_uplift: float
    true_uplift_treated: float
    true_p_churn_control: float
    seconds: float
    realised_alive: UpliftReport | None = None
    """Realised churn over the customers still alive at exposure (the others count as churned
    in both arms and no action changes that: a chance imbalance of them between the arms moves
    the all-customer figure without any effect)."""
    true_uplift_alive: float = float("nan")
    dead_share: tuple[float, float] = (float("nan"), float("nan"))  # already churned: T, C

    @property
    def resolved(self) -> int:
        return sum(len(s.resolved) for s in self.shards)


class ClosedLoop:
    """The loop of the module docstring; `run` drives it."""

    def __init__(self, customers: int, days: int, seed: int, holdout: float | None = None) -> None:
        from churnwatch_alerts.plan import CustomerState, PlanConfig
        from churnwatch_scoring.population import Population
        from churnwatch_scoring.scoring import Entry, ScoreOptions
        from churnwatch_scoring.valuation import ClvParams
        from churnwatch_sim import SimConfig, Simulator

        config = SimConfig(days=days, seed=seed).with_overrides(
            **{"population.customers": customers, "treatment.horizon_days": HORIZON_DAYS}
        )
        self.sim = Simulator(config)
        self.days = days
        self.entries: dict[str, Entry] = {}
        self.states: dict[str, CustomerState] = defaultdict(CustomerState)
        self.model: Scorer = ModelState(ModelConfig(horizon_days=HORIZON_DAYS)).serving()
        self.opts = ScoreOptions()
        self.clv = ClvParams.default()
        self.population = Population()
        self.plan_config = PlanConfig(salt=f"bench-{seed}")
        self.playbooks = {pb.id: pb for pb in bench_playbooks(holdout)}
        self.due: list[tuple[datetime, str]] = []
        self.due_at: dict[str, datetime] = {}
        self.exposed: list[_Exposed] = []
        self.pending: list[tuple[int, int]] = []  # (resolution day, index into exposed)
        self.churn_days: dict[int, list[int]] = defaultdict(list)
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.suppressed: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.events = 0
        self.scores = 0

    def run(self) -> None:
        sim = self.sim
        while not sim.done:
            day = sim.day
            produced = sim.step()
            touched = self._fold(produced.chunks(20_000))
            for i in np.flatnonzero(sim.pop.churn_day == day).tolist():
                self.churn_days[i].append(day)
            self._score_and_act(day, touched)
            self._resolve(day)

    def _fold(self, chunks: Any) -> dict[str, tuple[datetime, str]]:
        from churnwatch_scoring.scoring import Entry

        touched: dict[str, tuple[datetime, str]] = {}
        for chunk in chunks:
            self.events += len(chunk)
            for line in chunk:
                ev = parse_event(line, now=_FAR)
                cid = ev.customer_id
                entry = self.entries.get(cid)
                if entry is None:
                    entry = self.entries[cid] = Entry(CustomerProfile(), None, None, None)
                if not apply(entry.profile, ev):
                    continue
                if isinstance(ev, PurchaseEvent):
                    entry.retail = update(entry.retail, ev.occurred_at, ev.attributes.amount)
                elif isinstance(ev, CustomerErasedEvent):
                    entry.retail = None
                touched[cid] = (ev.occurred_at, ev.event_id)
        return touched

    def _score_and_act(self, day: int, touched: dict[str, tuple[datetime, str]]) -> None:
        from churnwatch_alerts.plan import ScoreIn, plan_batch
        from churnwatch_scoring.scoring import Scored, finish, score_customer
        from churnwatch_sim import parse_action

        end = self.sim.start_of(day + 1) - timedelta(milliseconds=1)
        self.population.refresh()
        scored: list[Scored] = []
        for cid, (clock, event_id) in touched.items():
            scored.append(score_customer(cid, 0, self.entries[cid], clock, self.model, self.opts,
                                         cause="event", cause_event_id=event_id))  # fmt: skip
        while self.due and self.due[0][0] <= end:
            at, cid = heapq.heappop(self.due)
            if cid in touched or self.due_at.get(cid) != at:
                continue
            scored.append(score_customer(cid, 0, self.entries[cid], end, self.model, self.opts,
                                         cause="silence", cause_event_id=None))  # fmt: skip
        for s in scored:
            if s.due is not None and self.due_at.get(s.customer_id) != s.due:
                self.due_at[s.customer_id] = s.due
                heapq.heappush(self.due, (s.due, s.customer_id))
        result = finish(scored, self.clv, self.population, self.opts)
        self.scores += len(result.messages)
        records = sorted(result.messages, key=lambda m: m[0].event_time)
        scores = [ScoreIn(msg_id, orjson.loads(value), rec.customer_id, rec.event_time)
                  for rec, value, msg_id in records]  # fmt: skip
        for score in scores:  # the service loads customer_profiles.state the same way
            self.states[score.customer_id].profile = self.entries[score.customer_id].profile
        plan = plan_batch(scores, self.states, self.playbooks, self.plan_config)
        for sup in plan.suppressions:
            self.suppressed[sup[2]][sup[4]] += 1
        mine = [row for row in plan.exposures if row[2] == PLAYBOOK]
        before = {row[0]: self._oracle(row[1]) for row in mine if row[4] == "treated"}
        applied: dict[str, ActionResult] = {}
        for msg in plan.actions:  # what the relay would put on cw.actions
            assert msg.value is not None
            assert msg.msg_id is not None
            applied[msg.msg_id] = self.sim.apply_action(parse_action(msg.value))
        for exp in plan.exposures:
            action_id, cid, pb_id, arm = exp[0], exp[1], exp[2], exp[4]
            at, tier, clv = exp[6], exp[7], exp[9]
            self.counts[pb_id][arm] += 1
            if pb_id != PLAYBOOK:
                continue
            if arm == "control":
                self._log(cid, arm, day, at, tier, clv, self._oracle(cid))
            else:
                _, p0, alive = before[action_id]
                truth = (applied[action_id].true_uplift, p0, alive)
                self._log(cid, arm, day, at, tier, clv, truth)

    def _oracle(self, customer_id: str) -> tuple[float, float, bool]:
        """(true uplift, P(churn within the horizon) without action, alive) of a save call."""
        from churnwatch_sim.actions import customer_index
        from churnwatch_sim.treatment import effects, uplift

        sim = self.sim
        i = customer_index(customer_id, sim.pop.size)
        assert i is not None
        idx = np.array([i], dtype=np.intp)
        s = sim.situation(idx)
        fx = effects("save_call", {}, s, sim.config)
        p0, p1 = uplift(sim.rates(idx, sim.day), sim.exposure(idx, sim.day), fx, s.alive,
                        sim.config, sim.multiplier(idx, sim.day))  # fmt: skip
        return float(p0[0] - p1[0]), float(p0[0]), bool(s.alive[0])

    def _log(self, cid: str, arm: str, day: int, at: datetime, tier: str, clv: float,
             truth: tuple[float, float, bool]) -> None:  # fmt: skip
        from churnwatch_sim.actions import customer_index

        i = customer_index(cid, self.sim.pop.size)
        assert i is not None
        uplift_, p0, alive = truth
        self.exposed.append(_Exposed(i, cid, arm, day, at, alive, uplift_, p0, tier, clv))
        heapq.heappush(self.pending, (day + HORIZON_DAYS, len(self.exposed) - 1))

    def _resolve(self, day: int) -> None:
        """As the uplift job: at the horizon's end, or after the lapse window too for a
        customer judged as retail (`resolvable_at`)."""
        from churnwatch_alerts.uplift import churned_by, resolvable_at

        while self.pending and self.pending[0][0] <= day:
            _, k = heapq.heappop(self.pending)
            e = self.exposed[k]
            end = e.at + timedelta(days=HORIZON_DAYS)
            profile = self.entries[e.customer_id].profile
            ready = resolvable_at(profile, end, lapse_days=LAPSE_DAYS)
            if ready > self.sim.start_of(day + 1):
                heapq.heappush(self.pending, (day + (ready - end).days, k))
                continue
            e.observed = churned_by(profile, end)
            window = range(e.day + 1, e.day + HORIZON_DAYS + 1)
            e.realised = not e.alive or any(d in window for d in self.churn_days[e.customer])

    def shard(self, seconds: float) -> Shard:
        done = [e for e in self.exposed if e.observed is not None]
        return Shard(
            seed=self.sim.config.seed,
            customers=self.sim.pop.size,
            days=self.days,
            events=self.events,
            scores=self.scores,
            seconds=seconds,
            exposures={k: dict(v) for k, v in self.counts.items()},
            suppressed={k: dict(v) for k, v in self.suppressed.items()},
            resolved=[
                (
                    e.arm,
                    e.tier,
                    bool(e.observed),
                    bool(e.realised),
                    e.true_uplift,
                    e.p_churn_control,
                    e.clv,
                    e.alive,
                )
                for e in done
            ],
        )


def run_shard(customers: int, days: int, seed: int, holdout: float | None = None) -> Shard:
    """One closed loop (module docstring) with its own population; picklable result."""
    started = time.perf_counter()
    loop = ClosedLoop(customers, days, seed, holdout)
    loop.run()
    return loop.shard(time.perf_counter() - started)


def closed_loop(
    customers: int,
    days: int,
    seed: int = SEED,
    shards: int = SHARDS,
    holdout: float | None = HOLDOUT,
) -> LoopResult:
    """``shards`` independent loops of ``customers // shards`` each, in parallel processes
    (one per core: the loop is CPU-bound Python), pooled into one measurement; ``holdout`` is
    the measured playbook's control share (None: as shipped, see `bench_playbooks`)."""
    started = time.perf_counter()
    per = customers // shards
    with ProcessPoolExecutor(max_workers=shards, mp_context=get_context("spawn")) as pool:
        parts = list(pool.map(run_shard, [per] * shards, [days] * shards,
                              [seed + k for k in range(shards)], [holdout] * shards))  # fmt: skip
    rows = [r for part in parts for r in part.resolved]
    if not rows:
        raise RuntimeError(f"no resolved exposures of {PLAYBOOK}: {parts}")

    def report(column: int, alive_only: bool = False) -> UpliftReport:
        exposures = [Exposure(PLAYBOOK, r[1], "treated" if r[0] == "treated" else "control",
                              bool(r[column]), r[6]) for r in rows
                     if r[7] or not alive_only]  # fmt: skip
        return next(x for x in uplift_reports(exposures) if x.segment == "all")

    def dead(arm: str) -> float:
        arm_rows = [r for r in rows if (r[0] == "treated") == (arm == "treated")]
        return float(np.mean([not r[7] for r in arm_rows])) if arm_rows else float("nan")

    treated = [r[4] for r in rows if r[0] == "treated"]
    alive = [r[4] for r in rows if r[7]]
    return LoopResult(
        shards=parts,
        observed=report(2),
        realised=report(3),
        true_uplift=float(np.mean([r[4] for r in rows])),
        true_uplift_treated=float(np.mean(treated)) if treated else float("nan"),
        true_p_churn_control=float(np.mean([r[5] for r in rows])),
        seconds=time.perf_counter() - started,
        realised_alive=report(3, alive_only=True) if alive else None,
        true_uplift_alive=float(np.mean(alive)) if alive else float("nan"),
        dead_share=(dead("treated"), dead("control")),
    )


def _available() -> str | None:
    for module in ("churnwatch_sim", "churnwatch_scoring", "churnwatch_alerts"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    return None


def _fmt(i: Interval | None) -> str:
    if i is None:
        return "n/a (an arm is empty)"
    return f"{i.estimate:+.4f} (95% CI {i.low:+.4f} to {i.high:+.4f})"


def _uplift(ctx: Context) -> list[Metric]:
    customers = QUICK_CUSTOMERS if ctx.quick else CUSTOMERS
    days = QUICK_DAYS if ctx.quick else DAYS
    r = closed_loop(customers, days)
    obs, real = r.observed, r.realised
    if obs.uplift is None or real.uplift is None:
        raise RuntimeError(f"an arm of {PLAYBOOK} is empty: {obs}")
    err = abs(obs.uplift.estimate - r.true_uplift)
    err_real = abs(real.uplift.estimate - r.true_uplift)
    shards = r.shards
    events, scores = sum(s.events for s in shards), sum(s.scores for s in shards)
    fired = sum(sum(s.exposures.get(PLAYBOOK, {}).values()) for s in shards)
    covered = "inside" if obs.uplift.covers(r.true_uplift) else "OUTSIDE"
    covered_real = "inside" if real.uplift.covers(r.true_uplift) else "OUTSIDE"
    notes = (
        f"Closed loop in pure domain code, NO Kafka and NO PostgreSQL (bench/bench_uplift.py): "
        f"simulator -> profile.apply -> the scoring service's score_customer/finish (rule prior, "
        f"CLV, tiers; once per customer-day plus next_due silence rescores) -> the alerts "
        f"service's plan_batch (default playbooks, guardrails, 10% holdout) -> apply_action. "
        f"{len(shards)} independent populations of {shards[0].customers:,} customers x {days} "
        f"days (seeds {', '.join(str(s.seed) for s in shards)}; one process each), "
        f"{events:,} events, {scores:,} scores, {r.seconds:.0f} s wall. Playbook {PLAYBOOK} "
        f"as shipped (high/critical band, tier gold/platinum by the value if retained) but "
        f"with a {HOLDOUT:.0%} holdout for the measurement (shipped: 10%; see bench_playbooks). "
        f"{fired:,} exposures, {r.resolved:,} resolved after the "
        f"{HORIZON_DAYS}-day horizon ({obs.treated:,} treated / {obs.control:,} control). "
        f"Measured as the uplift job resolves churn (profile: cancellation decided in the "
        f"horizon; retail last activity in it, then {LAPSE_DAYS} days of silence; erased): "
        f"honest save rate "
        f"{_fmt(obs.uplift)}, churn {obs.churn_treated:.3f} treated vs "
        f"{obs.churn_control:.3f} control. True uplift "
        f"(simulator oracle, P(churn in {HORIZON_DAYS} d | no action) - E[P(churn) | save "
        f"call], mean over the same exposed customers, both arms): {r.true_uplift:+.4f} "
        f"(treated only {r.true_uplift_treated:+.4f}; true P(churn) without action "
        f"{r.true_p_churn_control:.3f}). |error| {err:.4f}; the truth is {covered} the "
        f"interval. With the simulator's realised churn instead of the job's labels (retail "
        f"churn is silent and only seen as a {LAPSE_DAYS}-day lapse): {_fmt(real.uplift)}, "
        f"churn {real.churn_treated:.3f} vs {real.churn_control:.3f}, |error| "
        f"{err_real:.4f}, truth {covered_real} the interval. Already churned at exposure "
        f"(truth 0, churned in both arms): {r.dead_share[0]:.1%} of treated vs "
        f"{r.dead_share[1]:.1%} of control exposures; over the customers alive at exposure "
        f"only, realised {_fmt(r.realised_alive.uplift if r.realised_alive else None)} vs "
        f"true {r.true_uplift_alive:+.4f}."
    )
    return [
        Metric(
            name="uplift_abs_err_vs_truth",
            value=round(err, 4),
            unit="",
            command="python -m bench --only uplift" + (" --quick" if ctx.quick else ""),
            peer=Reference(
                "true uplift (simulator oracle, same customers)", round(r.true_uplift, 4), ""
            ),
            notes=notes,
        )
    ]


BENCHMARKS = [
    Benchmark(
        name="uplift",
        run=_uplift,
        available=_available,
        description="closed loop with the simulator: measured vs true uplift of save_call_vip",
    )
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_uplift")
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--shards", type=int, default=SHARDS)
    parser.add_argument("--holdout", type=float, default=HOLDOUT, help="<0: as shipped")
    args = parser.parse_args(argv)
    holdout = None if args.holdout < 0 else args.holdout
    result = closed_loop(args.customers, args.days, args.seed, args.shards, holdout)
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode())


if __name__ == "__main__":
    main()
