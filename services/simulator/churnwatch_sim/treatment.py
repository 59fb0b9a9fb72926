"""True response to churnwatch's actions, and the true uplift that follows from it.

An action changes a customer's future in up to four ways (:class:`Effects`): a multiplier ``m`` on
the total hazard for ``days`` days; removal of the complaint component (complaint resolved, with
a probability); removal of the payment component (card fixed, with a probability); and, for a
churned customer, a probability of coming back. Who gains what is planted and heterogeneous:

- ``save_call``: resolves an open complaint (``call_resolve``) and ``m = call_multiplier``;
  without a complaint only disengaged customers gain a little.
- ``offer`` (``params.discount_pct``, default 20): ``m = 1 - strength * discount * price_sens``.
- ``service_recovery``: resolves an open complaint (``recovery_resolve``) with goodwill
  ``m = 1 - goodwill * service_sens``; nothing without a complaint.
- ``billing_outreach``: fixes the card of a customer in dunning (``outreach_fix``).
- ``repeat_nudge``: purchase rate x ``nudge_boost`` and ``m = nudge_multiplier`` if disengaged.
- ``win_back``: a churned customer returns with ``base + discount_weight * discount * price_sens``.

Sleeping dogs contacted out of the blue (no open complaint, no failed payment) are annoyed
instead: ``m = annoyance`` for ``annoyance_days`` (a win-back rarely brings them back).

The true uplift over the horizon ``H`` is ``P(churn within H | no action) - E[P(churn within H |
action)]``; both come from the integrated hazard (``hazard.weighted_exposure``), which follows
each cause's known course (complaints resolving, the dunning course of the open invoice and the
later ones, price shock fading, competitor offer ending, the treatment multiplier in force running
out) but holds engagement at its current level (see ``hazard.integrated_hazard``). Both arms start
from the multiplier in force; an action that brings its own replaces it (``uplift``). A fixed
card (``fix_payment``) pays the open invoice now: its payment exposure is that of a paid customer
whose next invoice is a period later (``Exposure.card_fixed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from churnwatch_sim.config import SimConfig
from churnwatch_sim.hazard import Exposure, weighted_exposure

__all__ = [
    "ACTION_TYPES",
    "SEGMENTS",
    "Effects",
    "Situation",
    "effects",
    "segments",
    "uplift",
]

ACTION_TYPES = (
    "save_call",
    "offer",
    "service_recovery",
    "billing_outreach",
    "repeat_nudge",
    "win_back",
)
SEGMENTS = (
    "complainer",
    "payment_trouble",
    "sleeping_dog",
    "price_sensitive",
    "disengaged",
    "other",
)
F = NDArray[np.float64]
_PROACTIVE = {"save_call", "offer", "repeat_nudge", "win_back"}


@dataclass(frozen=True, slots=True)
class Situation:
    """What an action's effect depends on, one array element per customer."""

    alive: NDArray[np.bool_]
    engagement: F  # in (0, 1)
    price_sens: F
    service_sens: F
    sleeping_dog: NDArray[np.bool_]
    complaint_open: NDArray[np.integer[Any]]
    failures: NDArray[np.integer[Any]]


@dataclass(frozen=True, slots=True)
class Effects:
    """An action's planted effect per customer (probabilities and a timed hazard multiplier)."""

    multiplier: F
    days: NDArray[np.int64]
    resolve_complaint: F
    fix_payment: F
    reactivate: F
    purchase_boost: F
    annoyed: NDArray[np.bool_]


def _discount(params: dict[str, Any]) -> float:
    try:
        return float(np.clip(float(params.get("discount_pct", 20)) / 100.0, 0.0, 1.0))
    except (TypeError, ValueError):
        return 0.2


def effects(action_type: str, params: dict[str, Any], s: Situation, config: SimConfig) -> Effects:
    """The true effect of ``action_type`` on each customer in ``s``.

    >>> s = Situation(np.array([True, True]), np.array([0.5, 0.5]), np.array([0.8, 0.1]),
    ...     np.array([0.5, 0.5]), np.array([False, False]), np.array([0, 0]), np.array([0, 0]))
    >>> effects("offer", {"discount_pct": 20}, s, SimConfig()).multiplier.round(2).tolist()
    [0.6, 0.95]
    """
    tc = config.treatment
    n = len(s.alive)
    ones, zeros = np.ones(n), np.zeros(n)
    complaint = s.complaint_open > 0
    dunning = s.failures > 0
    mult, days = ones.copy(), np.zeros(n, dtype=np.int64)
    resolve, fix, back, boost = zeros.copy(), zeros.copy(), zeros.copy(), ones.copy()
    discount = _discount(params)
    if action_type == "save_call":
        mult = np.where(
            complaint,
            tc.call_multiplier,
            1.0 - (1.0 - tc.call_multiplier) * 0.3 * (s.engagement < 0.3),
        )
        days[:] = tc.call_days
        resolve = np.where(complaint, tc.call_resolve, 0.0)
    elif action_type == "offer":
        mult = np.maximum(0.2, 1.0 - tc.offer_strength * discount * s.price_sens)
        days[:] = tc.offer_days
    elif action_type == "service_recovery":
        mult = np.where(complaint, 1.0 - tc.recovery_goodwill * s.service_sens, 1.0)
        days[:] = tc.recovery_days
        resolve = np.where(complaint, tc.recovery_resolve, 0.0)
    elif action_type == "billing_outreach":
        fix = np.where(dunning, tc.outreach_fix, 0.0)
    elif action_type == "repeat_nudge":
        boost[:] = tc.nudge_boost
        mult = np.where(s.engagement < 0.5, tc.nudge_multiplier, 1.0)
        days[:] = tc.nudge_days
    elif action_type == "win_back":
        chance = np.minimum(0.9, tc.winback_base + tc.winback_discount * discount * s.price_sens)
        back = np.where(s.alive, 0.0, np.where(s.sleeping_dog, chance * 0.25, chance))
    else:
        raise ValueError(f"unknown action type {action_type!r}")
    annoyed = s.alive & s.sleeping_dog & ~complaint & ~dunning & (action_type in _PROACTIVE)
    mult = np.where(s.alive, np.where(annoyed, tc.annoyance, mult), 1.0)
    days = np.where(annoyed, tc.annoyance_days, np.where(s.alive, days, 0))
    return Effects(
        mult, days.astype(np.int64), resolve * s.alive, fix * s.alive, back, boost, annoyed
    )


def uplift(
    rates: F,
    e: Exposure,
    fx: Effects,
    alive: NDArray[np.bool_],
    config: SimConfig,
    in_force: tuple[F, NDArray[np.integer[Any]]] | None = None,
) -> tuple[F, F]:
    """(P(churn within H) without the action, its expected value with it) per customer.

    ``in_force`` is the treatment multiplier already in force and its days left
    (``Simulator.multiplier``; None: none). Both arms start from it: without the action it runs
    out as it would, and an action with ``fx.days > 0`` *replaces* it from today, exactly as
    ``respond.apply_action`` does (a save call on a customer still annoyed at x1.6 ends the
    annoyance; one on a customer under an offer's x0.6 ends the offer's protection).

    For a churned customer the pair is (1, 1 - P(reactivation)): the uplift is the return rate.

    >>> s = Situation(np.array([True]), np.array([0.5]), np.array([0.3]), np.array([0.5]),
    ...     np.array([False]), np.array([1]), np.array([0]))
    >>> rates = np.array([[0.0005], [0.0005], [0.006], [0.0], [0.0], [0.0]])
    >>> e = Exposure(np.array([True]), np.array([0]))
    >>> fx = effects("save_call", {}, s, SimConfig())
    >>> p0, p1 = uplift(rates, e, fx, s.alive, SimConfig())
    >>> round(float(p0[0]), 3), round(float(p1[0]), 3)
    (0.467, 0.179)

    The same customer still under an annoyance (x1.6, 20 days left) before the call: without
    it ``1 - exp(-0.007 * (1.6 * 20 + 70)) = 0.510``; the call replaces the annoyance.

    >>> p0, p1 = uplift(rates, e, fx, s.alive, SimConfig(), (np.array([1.6]), np.array([20])))
    >>> round(float(p0[0]), 3), round(float(p1[0]), 3)
    (0.51, 0.179)
    """
    h = float(config.treatment.horizon_days)
    n = len(alive)
    m0, d0 = (np.ones(n), np.zeros(n, dtype=np.int64)) if in_force is None else in_force
    m0 = np.broadcast_to(np.asarray(m0, dtype=np.float64), (n,))
    d0 = np.broadcast_to(np.asarray(d0, dtype=np.int64), (n,))
    replaced = fx.days > 0
    m1, d1 = np.where(replaced, fx.multiplier, m0), np.where(replaced, fx.days, d0)
    weighted = weighted_exposure(rates, h, e, config, m1, d1)
    if np.all(((m1 == m0) & (d1 == d0)) | (((m1 == 1.0) | (d1 == 0)) & ((m0 == 1.0) | (d0 == 0)))):
        p0 = -np.expm1(-weighted.sum(axis=0))  # the same course: no second pass
    else:
        p0 = -np.expm1(-weighted_exposure(rates, h, e, config, m0, d0).sum(axis=0))
    paid = np.zeros_like(p0)  # payment exposure once the card is fixed now
    if np.any(fx.fix_payment > 0):
        paid = weighted_exposure(rates, h, e.card_fixed(), config, m1, d1)[3]
    p1 = np.zeros_like(p0)
    for resolved in (0, 1):
        for fixed in (0, 1):
            w = np.where(resolved, fx.resolve_complaint, 1 - fx.resolve_complaint) * np.where(
                fixed, fx.fix_payment, 1 - fx.fix_payment
            )
            lam = weighted.sum(axis=0) - resolved * weighted[2] - fixed * (weighted[3] - paid)
            p1 += w * -np.expm1(-lam)
    p1 = np.where(np.abs(p1 - p0) < 1e-12, p0, p1)  # no effect: no rounding noise either
    p0 = np.where(alive, p0, 1.0)
    p1 = np.where(alive, p1, 1.0 - fx.reactivate)
    return p0, p1


def segments(s: Situation) -> NDArray[np.int8]:
    """The true segment (index into :data:`SEGMENTS`), first matching rule wins.

    >>> s = Situation(np.array([True] * 3), np.array([0.5, 0.2, 0.5]), np.array([0.7, 0.1, 0.1]),
    ...     np.array([0.5] * 3), np.array([False] * 3), np.array([1, 0, 0]), np.array([0, 0, 0]))
    >>> [SEGMENTS[i] for i in segments(s)]
    ['complainer', 'disengaged', 'other']
    """
    seg = np.full(len(s.alive), len(SEGMENTS) - 1, dtype=np.int8)
    rules = (
        s.complaint_open > 0,
        s.failures > 0,
        s.sleeping_dog,
        s.price_sens >= 0.5,
        s.engagement < 0.3,
    )
    for k in range(len(rules) - 1, -1, -1):
        seg[rules[k]] = k
    return seg
