"""What only the simulator knows: true hazards, CLV and uplift, written to the truth files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from churnwatch_sim import hazard as hz
from churnwatch_sim.blocks import DayEvents
from churnwatch_sim.population import ALIVE, CHURNED, PERIOD_NAMES, SUBSCRIPTION
from churnwatch_sim.timing import format_ms
from churnwatch_sim.treatment import ACTION_TYPES, SEGMENTS, effects, segments, uplift

if TYPE_CHECKING:
    from churnwatch_sim.engine import Simulator

__all__ = ["KINDS", "customers_table", "daily_row", "snapshot", "true_uplift"]

KINDS = ("retail", "subscription")
STATUS = ("pending", "alive", "churned", "erased")


def daily_row(sim: Simulator, events: DayEvents, revenue_cents: int) -> dict[str, Any]:
    """One row of ``daily.csv``: the day's counts and the churns the hazard model expected."""
    today = sim.today
    row: dict[str, Any] = {
        "day": events.day,
        "date": events.date.isoformat(),
        "alive": today["alive"],
        "events": events.count,
        "revenue": f"{revenue_cents / 100:.2f}",
        "churned": int(today["churned"].sum()),
        "expected_churned": float(today["expected"].sum()),
        "erased": today["erased"],
    }
    for k, cause in enumerate(hz.CAUSES):
        row[f"churned_{cause}"] = int(today["churned"][k])
    for k, cause in enumerate(hz.CAUSES):
        row[f"expected_{cause}"] = float(today["expected"][k])
    return row


def true_uplift(
    sim: Simulator, idx: NDArray[np.intp], action_type: str, params: dict[str, Any], day: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int8]]:
    """P(churn within the horizon) without and with the action, and the true segment; from the
    treatment multiplier already in force, which the action would replace (as `apply_action`)."""
    s = sim.situation(idx)
    fx = effects(action_type, params, s, sim.config)
    in_force = sim.multiplier(idx, day)
    p0, p1 = uplift(sim.rates(idx, day), sim.exposure(idx, day), fx, s.alive, sim.config, in_force)
    return p0, p1, segments(s)


def snapshot(sim: Simulator, day: int) -> None:
    """Per-customer true hazard and CLV (``hazard.csv``) and the uplift table (``uplift.csv``)."""
    assert sim.truth is not None
    pop, cfg = sim.pop, sim.config
    idx = np.flatnonzero(pop.status == ALIVE)
    rates = sim.rates(idx, day + 1)
    mult, left = sim.multiplier(idx, day + 1)
    e = sim.exposure(idx, day + 1)
    daily = hz.churn_probability(rates.sum(axis=0) * mult)
    p90 = -np.expm1(-hz.weighted_exposure(rates, 90.0, e, cfg, mult, left).sum(axis=0))
    clv = hz.remaining_value(
        sim.daily_value(idx, day + 1), rates, e, cfg, multiplier=mult, days=left
    )
    seg = segments(sim.situation(idx))
    kind = pop.kind[idx]
    sim.truth.write(
        "hazard",
        f"{day},C-%0{sim.width}d,%s,%.6g,%.6g,%s,%s,%.2f,%.2f",
        [
            idx,
            [KINDS[k] for k in kind.tolist()],
            daily,
            p90,
            [hz.CAUSES[c] for c in rates.argmax(axis=0).tolist()],
            [SEGMENTS[s] for s in seg.tolist()],
            clv,
            pop.revenue_cents[idx] / 100.0,
        ],
    )
    gone = np.flatnonzero(pop.status == CHURNED)
    for action in ACTION_TYPES:
        who = gone if action == "win_back" else idx
        p0, p1, seg = true_uplift(sim, who, action, {}, day + 1)
        group = pop.kind[who].astype(np.int64) * len(SEGMENTS) + seg
        size = len(KINDS) * len(SEGMENTS)
        n = np.bincount(group, minlength=size)
        mean0 = np.bincount(group, weights=p0, minlength=size) / np.maximum(n, 1)
        mean_up = np.bincount(group, weights=p0 - p1, minlength=size) / np.maximum(n, 1)
        g = np.flatnonzero(n)
        sim.truth.write(
            "uplift",
            f"{day},{action},%s,%s,%d,%.6g,%.6g",
            [
                [KINDS[k // len(SEGMENTS)] for k in g.tolist()],
                [SEGMENTS[k % len(SEGMENTS)] for k in g.tolist()],
                n[g],
                mean0[g],
                mean_up[g],
            ],
        )


def customers_table(sim: Simulator) -> None:
    """``customers.csv``: every customer's hidden traits, fate and true remaining CLV."""
    assert sim.truth is not None
    pop, cfg, day = sim.pop, sim.config, sim.day
    n = pop.size
    clv, hazard_now = np.zeros(n), np.zeros(n)
    idx = np.flatnonzero(pop.status == ALIVE)
    if len(idx):
        rates = sim.rates(idx, day)
        mult, left = sim.multiplier(idx, day)
        e = sim.exposure(idx, day)
        clv[idx] = hz.remaining_value(
            sim.daily_value(idx, day), rates, e, cfg, multiplier=mult, days=left
        )
        hazard_now[idx] = hz.churn_probability(rates.sum(axis=0) * mult)
    names = (*hz.CAUSES, "")
    sub = pop.kind == SUBSCRIPTION
    plan = np.where(sub, pop.plan, len(cfg.billing.plans))
    period = np.where(sub, pop.period, len(PERIOD_NAMES))
    header = (
        "customer_id,kind,plan,billing_period,join_day,purchase_rate,mean_spend,base_hazard,"
        "price_sensitivity,service_sensitivity,sleeping_dog,fader,engagement_start,engagement_end,"
        "status,first_churn_day,first_churn_at,first_churn_cause,churn_day,churn_cause,"
        "reactivations,revenue,clv_remaining,daily_hazard"
    )
    first_at = [
        format_ms(sim.date_of(dd), ms) if dd >= 0 else ""
        for dd, ms in zip(pop.first_churn_day.tolist(), pop.first_churn_ms.tolist(), strict=True)
    ]
    step = 200_000
    for lo in range(0, n, step):
        s = slice(lo, min(lo + step, n))
        sim.truth.write(
            "customers",
            f"C-%0{sim.width}d,%s,%s,%s,%d,%.6g,%.2f,%.6g,%.4f,%.4f,%d,%d,%.4f,%.4f,%s,%d,%s,%s,%d,"
            "%s,%d,%.2f,%.2f,%.6g",
            [
                np.arange(s.start, s.stop),
                [KINDS[k] for k in pop.kind[s].tolist()],
                [(*cfg.billing.plans, "")[k] for k in plan[s].tolist()],
                [(*PERIOD_NAMES, "")[k] for k in period[s].tolist()],
                pop.join_day[s],
                np.where(sub[s], 0.0, pop.purchase_rate[s]),
                cfg.population.spend_p / pop.spend_nu[s],
                pop.base_hazard[s],
                pop.price_sens[s],
                pop.service_sens[s],
                pop.sleeping_dog[s].astype(np.int8),
                (pop.engagement_drift[s] < 0).astype(np.int8),
                hz.engagement(pop.engagement_base[s]),
                hz.engagement(pop.engagement[s]),
                [STATUS[k] for k in pop.status[s].tolist()],
                pop.first_churn_day[s],
                first_at[s],
                [names[c] for c in pop.first_churn_cause[s].tolist()],
                pop.churn_day[s],
                [names[c] for c in pop.churn_cause[s].tolist()],
                pop.reactivations[s],
                pop.revenue_cents[s] / 100.0,
                clv[s],
                hazard_now[s],
            ],
            header=header,
        )
