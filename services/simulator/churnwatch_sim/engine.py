"""The simulation loop: one call to :meth:`Simulator.step` simulates one day for everyone.

A day, vectorised over all customers: arrivals, engagement drift, competitor offers, behaviour
(``activity``, ``commerce``), then the hazard model decides who leaves; events after a customer's
churn time are dropped, the day's truth is written, and the events come back as a
:class:`~churnwatch_sim.blocks.DayEvents` to be rendered in time order. Nothing of past days is
kept but the population's current state, the refunds still to come and the ids of applied actions.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from churnwatch_sim import hazard as hz
from churnwatch_sim import oracle, respond
from churnwatch_sim.actions import Action
from churnwatch_sim.activity import Day, complaints, emails, nps, sessions, tickets
from churnwatch_sim.blocks import Block, DayEvents
from churnwatch_sim.commerce import RefundBook, billing, price_factor, purchases
from churnwatch_sim.config import SimConfig
from churnwatch_sim.lifecycle import (
    cancelled_block,
    erased_block,
    expired_block,
    profile_block,
    started_block,
)
from churnwatch_sim.population import (
    ALIVE,
    CHURNED,
    ERASED,
    PENDING,
    PERIOD_DAYS,
    SUBSCRIPTION,
    Population,
    id_width,
    make_population,
)
from churnwatch_sim.respond import ActionResult
from churnwatch_sim.timing import DAY_MS, format_ms, sample_ms
from churnwatch_sim.treatment import Situation
from churnwatch_sim.truth import TruthWriter

__all__ = ["Simulator"]

_PAYMENT = hz.CAUSES.index("payment")


class Simulator:
    """A population living through ``config.days`` days, one :meth:`step` at a time."""

    def __init__(self, config: SimConfig, *, truth: TruthWriter | None = None) -> None:
        self.config = config
        self.pop: Population = make_population(config)
        self.width = id_width(config.population.customers)
        self.tag = config.run_tag
        self.day = 0
        self.truth = truth
        self.book = RefundBook()
        self.pending: list[Block] = []  # events caused by actions, emitted with the next day
        self.rejoin_ms: dict[int, int] = {}
        self.applied: set[str] = set()
        self.events_by_type: Counter[str] = Counter()
        self.churns_by_cause: Counter[str] = Counter()
        self._cutoff = np.full(config.population.customers, DAY_MS, dtype=np.int32)
        self.today: dict[str, Any] = {}  # the last day's churn figures (for daily.csv)
        if truth is not None:
            truth.config({"run_tag": self.tag, **config.model_dump(mode="json")})

    # -- time
    @property
    def done(self) -> bool:
        return self.day >= self.config.days

    def date_of(self, day: int) -> date:
        return self.config.start + timedelta(days=day)

    def start_of(self, day: int) -> datetime:
        """Midnight UTC at the start of simulated ``day``."""
        return datetime.combine(self.date_of(day), datetime.min.time(), tzinfo=UTC)

    def context(self, day: int, rng: np.random.Generator, alive: NDArray[np.intp]) -> Day:
        eng = hz.engagement(self.pop.engagement[alive])
        when = self.date_of(day)
        return Day(day, when, when.weekday(), rng, self.config, self.pop, alive, eng)

    # -- the hidden state, as the hazard and treatment models see it
    def rates(self, idx: NDArray[np.intp], day: int) -> NDArray[np.float64]:
        """Daily hazard per cause (``hazard.CAUSES`` x customers) on ``day``."""
        pop, hc, bc = self.pop, self.config.hazard, self.config.billing
        out = np.empty((len(hz.CAUSES), len(idx)))
        out[0] = pop.base_hazard[idx]
        out[1] = hz.engagement_hazard(pop.engagement[idx], hc.engagement, hc.engagement_power)
        out[2] = hz.complaint_hazard(pop.complaint_open[idx], pop.service_sens[idx], hc.complaint)
        out[3] = hz.payment_hazard(pop.failures[idx], hc.payment)
        inc = bc.price_increase_day
        since = -1 if inc is None else day - inc
        saw = pop.join_day[idx] < (inc if inc is not None else 0)
        out[4] = hz.price_hazard(
            pop.price_sens[idx],
            np.where(saw, since, -1),
            bc.price_increase_pct,
            hc.price,
            hc.price_decay_days,
        )
        out[5] = hz.competitor_hazard(
            pop.price_sens[idx], pop.shock_until[idx] > day, hc.competitor
        )
        return out

    def multiplier(
        self, idx: NDArray[np.intp], day: int
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Treatment multiplier in force and the days it has left."""
        left = np.maximum(self.pop.mult_until[idx].astype(np.int64) - day, 0)
        return np.where(left > 0, self.pop.mult[idx], 1.0).astype(np.float64), left

    def exposure(self, idx: NDArray[np.intp], day: int) -> hz.Exposure:
        """How the rates run on from ``day`` (the next day to simulate), billing state included."""
        pop = self.pop
        sub = pop.kind[idx] == SUBSCRIPTION
        return hz.Exposure(
            pop.complaint_stuck[idx],
            pop.shock_until[idx] - day,
            failures=pop.failures[idx],
            bill_in=pop.next_bill[idx].astype(np.int64) - day,
            period=np.where(sub, PERIOD_DAYS[pop.period[idx]], 0),
            pay_fail=pop.pay_fail[idx].astype(np.float64),
        )

    def situation(self, idx: NDArray[np.intp]) -> Situation:
        pop = self.pop
        return Situation(
            pop.status[idx] == ALIVE,
            hz.engagement(pop.engagement[idx]),
            pop.price_sens[idx].astype(np.float64),
            pop.service_sens[idx].astype(np.float64),
            pop.sleeping_dog[idx],
            pop.complaint_open[idx],
            pop.failures[idx],
        )

    def daily_value(self, idx: NDArray[np.intp], day: int) -> NDArray[np.float64]:
        """Expected revenue per day while alive (retail: rate x mean order; subscription: fee)."""
        pop, pc, bc = self.pop, self.config.population, self.config.billing
        level = price_factor(day, bc.price_increase_day, bc.price_increase_pct)
        retail = pop.purchase_rate[idx] * (pc.spend_p / pop.spend_nu[idx]) * level
        fee = pop.price_cents[idx] / 100.0 / PERIOD_DAYS[pop.period[idx]]
        return np.where(pop.kind[idx] == SUBSCRIPTION, fee, retail).astype(np.float64)

    # -- one day
    def step(self) -> DayEvents:
        """Simulate the next day and return its events (already filtered by churn times)."""
        cfg, pop, d = self.config, self.pop, self.day
        rng = np.random.default_rng([cfg.seed, d, 0x5EED])
        alive = np.flatnonzero(pop.status == ALIVE)
        self._drift(alive, rng)
        hc = cfg.hazard
        hit = (pop.shock_until[alive] <= d) & (rng.random(len(alive)) < hc.competitor_rate)
        pop.shock_until[alive[hit]] = d + hc.competitor_days
        day = self.context(d, rng, alive)
        blocks, self.pending = self.pending, []
        blocks += self._joins(day)
        for generate in (sessions, emails, tickets, complaints, nps, billing):
            blocks += generate(day)
        blocks += purchases(day, self.book)
        terminal, gone = self._churn(day)
        cutoff = self._cutoff
        blocks = [b.select(b.ms <= cutoff[b.cust]) for b in blocks] + terminal
        cutoff[gone] = DAY_MS
        revenue = 0
        for b in blocks:
            if b.value is not None and len(b):
                pop.revenue_cents += np.bincount(
                    b.cust, weights=b.value, minlength=pop.size
                ).astype(np.int64)
                revenue += int(b.value.sum())
        events = DayEvents(day=d, date=day.date, tag=self.tag, id_width=self.width, blocks=blocks)
        self.events_by_type.update(events.counts_by_type())
        if self.truth is not None:
            self.truth.daily(oracle.daily_row(self, events, revenue))
            every = cfg.hazard_every
            if every and (d % every == 0 or d == cfg.days - 1):
                oracle.snapshot(self, d)
        self.day += 1
        return events

    def apply_action(self, action: Action) -> ActionResult:
        """Let the customer respond to ``action`` from the next simulated day on."""
        return respond.apply_action(self, action)

    def finish(self) -> None:
        """Write the end-of-run truth (``customers.csv``) and close the truth files."""
        if self.truth is not None:
            oracle.customers_table(self)
            self.truth.close()

    def _drift(self, alive: NDArray[np.intp], rng: np.random.Generator) -> None:
        pc, pop = self.config.population, self.pop
        x = pop.engagement[alive]
        drift = pop.engagement_drift[alive]
        pull = np.where(drift == 0, pc.engagement_reversion * (pop.engagement_base[alive] - x), 0)
        moved = x + drift + pull + rng.normal(0.0, pc.engagement_noise, len(alive))
        pop.engagement[alive] = np.clip(moved, -8.0, 8.0)

    def _joins(self, day: Day) -> list[Block]:
        pop, d, rng = self.pop, day.index, day.rng
        blocks: list[Block] = []
        if d == 0 and self.config.profiles_at_start:
            first = day.alive.astype(np.int32)
            ms = rng.integers(0, 60_000, len(first)).astype(np.int32)
            blocks.append(profile_block(day, first, ms))
        who = np.flatnonzero((pop.status == PENDING) & (pop.join_day == d)).astype(np.int32)
        if not len(who):
            return blocks
        ms = sample_ms(rng, len(who), "consumer", day.weekday)
        back = pop.churn_day[who] >= 0
        for k, i in enumerate(who.tolist()):
            if i in self.rejoin_ms:
                ms[k] = self.rejoin_ms.pop(i)
        pop.status[who] = ALIVE
        new, sub = who[~back], pop.kind[who] == SUBSCRIPTION
        blocks.append(profile_block(day, new, ms[~back]))
        trial = (pop.next_bill[who] - d) == self.config.billing.trial_days
        blocks.append(started_block(day, who[sub], ms[sub] + 1, trial[sub] & ~back[sub]))
        if self.truth is not None and back.any():
            self._log(day, who[back], ms[back], "reactivation", np.full(int(back.sum()), -1))
        return blocks

    def _churn(self, day: Day) -> tuple[list[Block], NDArray[np.int32]]:
        """Draw today's churns and erasures; drop events after them; return the final events."""
        cfg, pop, d, rng, alive = self.config, self.pop, day.index, day.rng, day.alive
        rates = self.rates(alive, d)
        mult, _ = self.multiplier(alive, d)
        total = rates.sum(axis=0) * mult
        p = hz.churn_probability(total)
        churn = rng.random(len(alive)) < p
        erase = ~churn & (rng.random(len(alive)) < cfg.activity.erasure_rate)
        cause = hz.draw_causes(rates[:, churn], rng.random(int(churn.sum())))
        leavers, erasers = alive[churn].astype(np.int32), alive[erase].astype(np.int32)
        leave_ms = rng.integers(0, DAY_MS, len(leavers)).astype(np.int32)
        erase_ms = rng.integers(0, DAY_MS, len(erasers)).astype(np.int32)
        expected = (p / np.where(total > 0, total, 1.0)) * mult * rates
        self.today = {
            "alive": len(alive),
            "expected": expected.sum(axis=1),
            "churned": np.bincount(cause, minlength=len(hz.CAUSES)),
            "erased": len(erasers),
        }
        self._cutoff[leavers], self._cutoff[erasers] = leave_ms, erase_ms
        pop.status[leavers], pop.status[erasers] = CHURNED, ERASED
        pop.churn_day[leavers], pop.churn_cause[leavers] = d, cause
        first = pop.first_churn_day[leavers] < 0
        pop.first_churn_day[leavers[first]] = d
        pop.first_churn_cause[leavers[first]] = cause[first]
        pop.first_churn_ms[leavers[first]] = leave_ms[first]
        self.churns_by_cause.update(hz.CAUSES[c] for c in cause.tolist())
        if self.truth is not None:
            self._log(day, leavers, leave_ms, "churn", cause)
            self._log(day, erasers, erase_ms, "erasure", np.full(len(erasers), -1))
        sub = pop.kind[leavers] == SUBSCRIPTION
        # a payment churn in dunning is a plan left unpaid, not a cancellation: non-renewal
        lapsed = sub & (cause == _PAYMENT) & (pop.failures[leavers] > 0)
        cancel = sub & ~lapsed
        terminal = [
            cancelled_block(day, leavers[cancel], leave_ms[cancel], cause[cancel]),
            expired_block(day, leavers[lapsed], leave_ms[lapsed]),
            erased_block(day, erasers, erase_ms),
        ]
        return terminal, np.concatenate([leavers, erasers])

    def _log(
        self,
        day: Day,
        who: NDArray[np.int32],
        ms: NDArray[np.int32],
        event: str,
        cause: NDArray[np.integer],
    ) -> None:
        assert self.truth is not None
        names = (*hz.CAUSES, "")
        when = [format_ms(day.date, m) for m in ms.tolist()]
        self.truth.write(
            "churns",
            f"{day.index},%s,C-%0{self.width}d,%s,{event},%s",
            [
                when,
                who,
                [oracle.KINDS[k] for k in self.pop.kind[who].tolist()],
                [names[c] for c in cause.tolist()],
            ],
        )
