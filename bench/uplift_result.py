"""The pooled result of `bench.bench_uplift`'s closed loops, and the words that report it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from churnwatch.alerts import Exposure, Interval, UpliftReport, uplift_reports

__all__ = ["LoopResult", "Shard", "describe", "fmt_interval", "pool"]


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


def pool(parts: list[Shard], playbook: str, seconds: float) -> LoopResult:
    """The shards' resolved exposures of ``playbook`` as one measurement."""
    rows = [r for part in parts for r in part.resolved]
    if not rows:
        raise RuntimeError(f"no resolved exposures of {playbook}: {parts}")

    def report(column: int, alive_only: bool = False) -> UpliftReport:
        exposures = [Exposure(playbook, r[1], "treated" if r[0] == "treated" else "control",
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
        seconds=seconds,
        realised_alive=report(3, alive_only=True) if alive else None,
        true_uplift_alive=float(np.mean(alive)) if alive else float("nan"),
        dead_share=(dead("treated"), dead("control")),
    )


def fmt_interval(i: Interval | None) -> str:
    """An interval in words.

    >>> fmt_interval(Interval(0.02, -0.01, 0.05)), fmt_interval(None)
    ('+0.0200 (95% CI -0.0100 to +0.0500)', 'n/a (an arm is empty)')
    """
    if i is None:
        return "n/a (an arm is empty)"
    return f"{i.estimate:+.4f} (95% CI {i.low:+.4f} to {i.high:+.4f})"


def describe(
    r: LoopResult, playbook: str, days: int, holdout: float, horizon_days: int, lapse_days: int
) -> tuple[float, str]:
    """|measured - true| of the uplift job's labels, and the run in words."""
    obs, real = r.observed, r.realised
    if obs.uplift is None or real.uplift is None:
        raise RuntimeError(f"an arm of {playbook} is empty: {obs}")
    err = abs(obs.uplift.estimate - r.true_uplift)
    err_real = abs(real.uplift.estimate - r.true_uplift)
    shards = r.shards
    events, scores = sum(s.events for s in shards), sum(s.scores for s in shards)
    fired = sum(sum(s.exposures.get(playbook, {}).values()) for s in shards)
    covered = "inside" if obs.uplift.covers(r.true_uplift) else "OUTSIDE"
    covered_real = "inside" if real.uplift.covers(r.true_uplift) else "OUTSIDE"
    notes = (
        f"Closed loop in pure domain code, NO Kafka and NO PostgreSQL (bench/bench_uplift.py): "
        f"simulator -> profile.apply -> the scoring service's score_customer/finish (rule prior, "
        f"CLV, tiers; once per customer-day plus next_due silence rescores) -> the alerts "
        f"service's plan_batch (default playbooks, guardrails, 10% holdout) -> apply_action. "
        f"{len(shards)} independent populations of {shards[0].customers:,} customers x {days} "
        f"days (seeds {', '.join(str(s.seed) for s in shards)}; one process each), "
        f"{events:,} events, {scores:,} scores, {r.seconds:.0f} s wall. Playbook {playbook} "
        f"as shipped (high/critical band, tier gold/platinum by the value if retained) but "
        f"with a {holdout:.0%} holdout for the measurement (shipped: 10%; see bench_playbooks). "
        f"{fired:,} exposures, {r.resolved:,} resolved after the "
        f"{horizon_days}-day horizon ({obs.treated:,} treated / {obs.control:,} control). "
        f"Measured as the uplift job resolves churn (profile: cancellation decided in the "
        f"horizon; retail last activity in it, then {lapse_days} days of silence; erased): "
        f"honest save rate "
        f"{fmt_interval(obs.uplift)}, churn {obs.churn_treated:.3f} treated vs "
        f"{obs.churn_control:.3f} control. True uplift "
        f"(simulator oracle, P(churn in {horizon_days} d | no action) - E[P(churn) | save "
        f"call], mean over the same exposed customers, both arms): {r.true_uplift:+.4f} "
        f"(treated only {r.true_uplift_treated:+.4f}; true P(churn) without action "
        f"{r.true_p_churn_control:.3f}). |error| {err:.4f}; the truth is {covered} the "
        f"interval. With the simulator's realised churn instead of the job's labels (retail "
        f"churn is silent and only seen as a {lapse_days}-day lapse): {fmt_interval(real.uplift)}, "
        f"churn {real.churn_treated:.3f} vs {real.churn_control:.3f}, |error| "
        f"{err_real:.4f}, truth {covered_real} the interval. Already churned at exposure "
        f"(truth 0, churned in both arms): {r.dead_share[0]:.1%} of treated vs "
        f"{r.dead_share[1]:.1%} of control exposures; over the customers alive at exposure "
        f"only, realised {fmt_interval(r.realised_alive.uplift if r.realised_alive else None)} vs "
        f"true {r.true_uplift_alive:+.4f}."
    )
    return err, notes
