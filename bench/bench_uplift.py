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
from bench.uplift_result import LoopResult, Shard, describe, pool
from churnwatch.alerts import (
    Playbook,
    default_playbooks,
)
from churnwatch.events import CustomerErasedEvent, PurchaseEvent, parse_event
from churnwatch.model import ModelConfig, ModelState, Scorer
from churnwatch.profile import CustomerProfile, RfmValues, apply
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
        self.basis: dict[str, float] = {}  # each customer's latest value basis and R, F, M
        self.rfm: dict[str, RfmValues] = {}
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
        from churnwatch.messages import decode_score
        from churnwatch_alerts.plan import ScoreIn, plan_batch
        from churnwatch_scoring.population import Population
        from churnwatch_scoring.scoring import Scored, finish, score_customer
        from churnwatch_sim import parse_action

        end = self.sim.start_of(day + 1) - timedelta(milliseconds=1)
        self.population = Population.from_values(
            day + 1, list(self.basis.values()), list(self.rfm.values())
        )  # the cut points a daily job would publish (churnwatch_scoring.cuts)
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
        for rec in result.records:
            retained = rec.value_if_retained or 0.0
            self.basis[rec.customer_id] = (
                retained if self.opts.value.basis == "retained" else rec.clv
            )
            if rec.rfm_recency_days is not None:
                self.rfm[rec.customer_id] = RfmValues(
                    rec.rfm_recency_days, rec.rfm_frequency or 0.0, rec.rfm_monetary or 0.0
                )
        self.scores += len(result.messages)
        records = sorted(result.messages, key=lambda m: m[0].event_time)
        scores = [ScoreIn(msg_id, decode_score(value)) for _, value, msg_id in records]
        for score in scores:  # the service loads customer_profiles.state the same way
            self.states[score.customer_id].profile = self.entries[score.customer_id].profile
        plan = plan_batch(scores, self.states, self.playbooks, self.plan_config)
        for sup in plan.suppressions:
            self.suppressed[sup[2]][sup[4]] += 1
        mine = [row for row in plan.exposures if row.playbook_id == PLAYBOOK]
        before = {
            row.action_id: self._oracle(row.customer_id) for row in mine if row.arm == "treated"
        }
        applied: dict[str, ActionResult] = {}
        for msg in plan.actions:  # what the relay would put on cw.actions
            assert msg.value is not None
            assert msg.msg_id is not None
            applied[msg.msg_id] = self.sim.apply_action(parse_action(msg.value))
        for exp in plan.exposures:
            action_id, cid, pb_id, arm = exp.action_id, exp.customer_id, exp.playbook_id, exp.arm
            at, tier, clv = exp.exposed_at, exp.segment, exp.clv
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
    with ProcessPoolExecutor(max_workers=shards, mp_context=get_context("spawn")) as executor:
        parts = list(executor.map(run_shard, [per] * shards, [days] * shards,
                              [seed + k for k in range(shards)], [holdout] * shards))  # fmt: skip
    return pool(parts, PLAYBOOK, time.perf_counter() - started)


def _available() -> str | None:
    for module in ("churnwatch_sim", "churnwatch_scoring", "churnwatch_alerts"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    return None


def _uplift(ctx: Context) -> list[Metric]:
    customers = QUICK_CUSTOMERS if ctx.quick else CUSTOMERS
    days = QUICK_DAYS if ctx.quick else DAYS
    r = closed_loop(customers, days)
    err, notes = describe(r, PLAYBOOK, days, HOLDOUT, HORIZON_DAYS, LAPSE_DAYS)
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
