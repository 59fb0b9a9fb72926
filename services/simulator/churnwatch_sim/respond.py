"""A simulated customer's response to one churnwatch action (the planted treatment effect).

The effect (``treatment.effects``) is drawn once per action with a random stream derived from
the seed and the action id, so the same actions give the same run. The consequences start with
the next simulated day: a hazard multiplier, a complaint resolved, a card fixed (the open invoice
is paid), a churned customer returning; offers and win-backs are answered with ``offer_response``
events. Each applied action is written to ``actions.csv`` with its true uplift.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import orjson

from churnwatch_sim.actions import Action, customer_index
from churnwatch_sim.activity import complaint_block
from churnwatch_sim.commerce import renewed_block
from churnwatch_sim.lifecycle import offer_block
from churnwatch_sim.population import ALIVE, CHURNED, PENDING, PERIOD_DAYS, SUBSCRIPTION
from churnwatch_sim.timing import DAY_MS, sample_ms
from churnwatch_sim.treatment import SEGMENTS, effects, segments, uplift

if TYPE_CHECKING:
    from churnwatch_sim.engine import Simulator

__all__ = ["ActionResult", "apply_action"]

_HEADER = (
    "action_id,customer_id,action_type,day,kind,segment,alive,p_churn_control,p_churn_treated,"
    "true_uplift,annoyed,complaint_resolved,payment_fixed,reactivated"
)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What became of an action: ``status`` is applied, duplicate, unknown_customer or inactive."""

    action_id: str
    status: str
    true_uplift: float = 0.0
    segment: str = ""
    annoyed: bool = False
    complaint_resolved: bool = False
    payment_fixed: bool = False
    reactivated: bool = False


def _stream(seed: int, action_id: str) -> np.random.Generator:
    digest = hashlib.blake2b(action_id.encode(), digest_size=8).digest()
    return np.random.default_rng([seed, 0xAC7, int.from_bytes(digest, "big")])


def _json_text(value: str) -> str:
    """A JSON string literal safe inside a %-template."""
    return orjson.dumps(value).decode().replace("%", "%%")


def apply_action(sim: Simulator, action: Action) -> ActionResult:
    """Apply ``action`` to the simulation ``sim`` (see the module docstring)."""
    if action.action_id in sim.applied:
        return ActionResult(action.action_id, "duplicate")
    i = customer_index(action.customer_id, sim.pop.size)
    if i is None:
        return ActionResult(action.action_id, "unknown_customer")
    pop, cfg, d = sim.pop, sim.config, sim.day
    if pop.status[i] not in (ALIVE, CHURNED) or (
        pop.status[i] == CHURNED and action.action_type != "win_back"
    ):
        return ActionResult(action.action_id, "inactive")
    sim.applied.add(action.action_id)
    idx = np.array([i], dtype=np.intp)
    s = sim.situation(idx)
    fx = effects(action.action_type, action.params, s, cfg)
    in_force = sim.multiplier(idx, d)  # replaced below if the action brings its own
    p0, p1 = uplift(sim.rates(idx, d), sim.exposure(idx, d), fx, s.alive, cfg, in_force)
    segment = SEGMENTS[int(segments(s)[0])]
    rng = _stream(cfg.seed, action.action_id)
    u = rng.random(3)
    resolved = bool(u[0] < fx.resolve_complaint[0])
    fixed = bool(u[1] < fx.fix_payment[0])
    back = bool(u[2] < fx.reactivate[0])
    annoyed = bool(fx.annoyed[0])
    day = sim.context(d, rng, np.zeros(0, dtype=np.intp))
    who = idx.astype(np.int32)
    t0 = sample_ms(rng, 1, "office", day.weekday)
    if bool(s.alive[0]):
        if fx.days[0] > 0:
            pop.mult[i], pop.mult_until[i] = fx.multiplier[0], d + int(fx.days[0])
        if fx.purchase_boost[0] != 1.0:
            pop.boost[i] = fx.purchase_boost[0]
            pop.boost_until[i] = d + cfg.treatment.nudge_days
        if resolved:
            sim.pending.append(complaint_block(day, who, "resolved", t0))
            pop.complaint_open[i], pop.complaint_stuck[i] = 0, False
        if fixed:
            sim.pending.append(renewed_block(day, who, t0))
    elif back:
        _reactivate(sim, i)
    if action.action_type in ("offer", "win_back"):
        accept_p = back if not s.alive[0] else min(0.9, 0.2 + 2.0 * (1.0 - fx.multiplier[0]))
        last = _offer_events(sim, action, who, t0, float(s.engagement[0]), float(accept_p), rng)
        if back:
            sim.rejoin_ms[i] = min(last + 60_000, DAY_MS - 1)
    result = ActionResult(
        action.action_id, "applied", float(p0[0] - p1[0]), segment, annoyed, resolved, fixed, back
    )
    _write(sim, action, result, i, bool(s.alive[0]), (float(p0[0]), float(p1[0])))
    return result


def _reactivate(sim: Simulator, i: int) -> None:
    """Bring a churned customer back from the next day: fresh state, new subscription."""
    pop, d = sim.pop, sim.day
    pop.status[i], pop.join_day[i] = PENDING, d
    pop.reactivations[i] += 1
    pop.engagement[i] = pop.engagement_base[i]
    pop.complaint_open[i], pop.complaint_stuck[i] = 0, False
    pop.failures[i], pop.next_retry[i], pop.shock_until[i] = 0, -1, -1
    pop.mult_until[i] = -1
    if pop.kind[i] == SUBSCRIPTION:
        pop.sub_seq[i] += 1
        pop.next_bill[i] = d + int(PERIOD_DAYS[pop.period[i]])


def _offer_events(
    sim: Simulator,
    action: Action,
    who: np.ndarray,
    t0: np.ndarray,
    engagement: float,
    accept_p: float,
    rng: np.random.Generator,
) -> int:
    """delivered → opened → accepted/declined, or expired unread; returns the last time."""
    offer = action.params.get("offer_id")
    offer_id = _json_text(str(offer) if offer else f"OF-{action.action_id}"[:128])[1:-1]
    action_id = _json_text(action.action_id)[1:-1]
    times = [int(t0[0])]
    steps = ["delivered"]
    opened = rng.random() < (1.0 if accept_p >= 1.0 else 0.3 + 0.5 * engagement)
    if opened:
        times.append(min(times[-1] + int(rng.exponential(3_600_000)), DAY_MS - 2))
        steps.append("opened")
        times.append(min(times[-1] + 1 + int(rng.exponential(600_000)), DAY_MS - 2))
        steps.append("accepted" if rng.random() < accept_p else "declined")
    else:
        times.append(DAY_MS - 2)
        steps.append("expired")
    for t, response in zip(times, steps, strict=True):
        ms = np.array([t], dtype=np.int32)
        sim.pending.append(offer_block(who, ms, response, offer_id, action_id))
    return times[-1]


def _write(
    sim: Simulator, action: Action, r: ActionResult, i: int, alive: bool, p: tuple[float, float]
) -> None:
    if sim.truth is None:
        return
    buf = io.StringIO()
    kind = ("retail", "subscription")[int(sim.pop.kind[i])]
    p0, p1 = p
    csv.writer(buf, lineterminator="\n").writerow(
        [
            action.action_id,
            action.customer_id,
            action.action_type,
            sim.day,
            kind,
            r.segment,
            int(alive),
            f"{p0:.6g}",
            f"{p1:.6g}",
            f"{r.true_uplift:.6g}",
            int(r.annoyed),
            int(r.complaint_resolved),
            int(r.payment_fixed),
            int(r.reactivated),
        ]
    )
    sim.truth.write("actions", "%s", [[buf.getvalue().rstrip("\n")]], header=_HEADER)
