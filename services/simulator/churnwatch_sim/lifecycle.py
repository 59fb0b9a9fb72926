"""Events at the edges of a relationship: sign-up, cancellation, erasure, offers answered."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from numpy.typing import NDArray

from churnwatch_sim.activity import Day
from churnwatch_sim.blocks import Block, Labels, money
from churnwatch_sim.population import PERIOD_NAMES

__all__ = [
    "EXIT_REASONS",
    "cancelled_block",
    "erased_block",
    "expired_block",
    "offer_block",
    "profile_block",
    "started_block",
]

EXIT_REASONS = (
    "null",
    '"price"',
    '"competitor"',
    '"service"',
    '"product"',
    '"no_longer_needed"',
    '"payment_failure"',
    '"moved"',
    '"other"',
)
# P(stated exit reason | true cause), columns as EXIT_REASONS; a quarter give none
_EXIT_P = np.array(
    [
        [25, 0, 0, 0, 0, 38, 0, 19, 18],  # baseline
        [25, 0, 0, 0, 30, 38, 0, 0, 7],  # engagement
        [25, 0, 0, 52, 15, 0, 0, 0, 8],  # complaint
        [25, 0, 0, 0, 0, 0, 68, 0, 7],  # payment
        [25, 64, 7, 0, 0, 0, 0, 0, 4],  # price
        [25, 37, 30, 0, 0, 0, 0, 0, 8],  # competitor
    ],
    dtype=np.float64,
)
_EXIT_P /= _EXIT_P.sum(axis=1, keepdims=True)
LANGUAGES = {"DE": "de", "AT": "de", "FR": "fr", "NL": "nl", "ES": "es", "IT": "it"}
BOOL = ("false", "true")


def _dates(d: Day, days: NDArray[np.integer]) -> Labels:
    """ISO midnight timestamps of simulated ``days`` (may be before the start)."""
    lo = int(days.min()) if len(days) else 0
    hi = int(days.max()) if len(days) else 0
    start = d.config.start
    labels = [(start + timedelta(days=k)).isoformat() + "T00:00:00Z" for k in range(lo, hi + 1)]
    return Labels(days - lo, labels)


def profile_block(d: Day, who: NDArray[np.int32], ms: NDArray[np.int32]) -> Block:
    """``customer_profile``: contact data, country, language, sign-up date, consent."""
    pop = d.pop
    countries = d.config.population.countries
    languages = [LANGUAGES.get(c, "en") for c in countries]
    country = pop.country[who]
    return Block(
        "customer_profile",
        "crm",
        who,
        ms,
        '"email":"c%d@example.com","country":"%s","language":"%s","signed_up_at":"%s",'
        '"consent":{"email":%s,"sms":false,"phone":true,"push":%s}',
        (
            who,
            Labels(country, countries),
            Labels(country, languages),
            _dates(d, np.maximum(pop.join_day[who], -(10**5))),
            Labels(pop.email_ok[who].astype(np.int8), BOOL),
            Labels((pop.engagement_base[who] > 0).astype(np.int8), BOOL),
        ),
    )


def started_block(
    d: Day, who: NDArray[np.int32], ms: NDArray[np.int32], trial: NDArray[np.bool_]
) -> Block:
    """``subscription_started`` for the customers' current subscription."""
    pop, bc = d.pop, d.config.billing
    return Block(
        "subscription_started",
        "billing",
        who,
        ms,
        '"subscription_id":"SUB-%d-%d","plan":"%s","price":"%d.%02d",'
        f'"currency":"{bc.currency}","billing_period":"%s","trial":%s',
        (
            who,
            pop.sub_seq[who],
            Labels(pop.plan[who], bc.plans),
            *money(pop.price_cents[who]),
            Labels(pop.period[who], PERIOD_NAMES),
            Labels(trial.astype(np.int8), BOOL),
        ),
    )


def cancelled_block(
    d: Day, who: NDArray[np.int32], ms: NDArray[np.int32], cause: NDArray[np.int8]
) -> Block:
    """``subscription_cancelled`` with an exit reason that usually (not always) tells the cause."""
    u = d.rng.random(len(who))
    cum = np.cumsum(_EXIT_P[cause], axis=1)
    reason = (cum < u[:, np.newaxis]).sum(axis=1).clip(0, len(EXIT_REASONS) - 1)
    return Block(
        "subscription_cancelled",
        "billing",
        who,
        ms,
        '"subscription_id":"SUB-%d-%d","exit_reason":%s,"effective_at":"%s"',
        (
            who,
            d.pop.sub_seq[who],
            Labels(reason, EXIT_REASONS),
            _dates(d, np.maximum(d.pop.next_bill[who], d.index)),
        ),
    )


def expired_block(d: Day, who: NDArray[np.int32], ms: NDArray[np.int32]) -> Block:
    """``subscription_expired``: a subscriber in dunning gave up, no cancellation sent; the plan
    was never renewed and ends now, when billing stops retrying (the service ran on through the
    dunning grace, so no ``effective_at`` back at the unpaid invoice's due day)."""
    return Block(
        "subscription_expired",
        "billing",
        who,
        ms,
        '"subscription_id":"SUB-%d-%d"',
        (who, d.pop.sub_seq[who]),
    )


def erased_block(d: Day, who: NDArray[np.int32], ms: NDArray[np.int32]) -> Block:
    """``customer_erased`` on request (the customer's last event)."""
    return Block("customer_erased", "crm", who, ms, '"reason":"request"')


def offer_block(
    who: NDArray[np.int32], ms: NDArray[np.int32], response: str, offer_id: str, action_id: str
) -> Block:
    """``offer_response`` to churnwatch action ``action_id`` (ids already contract-safe)."""
    body = f'"offer_id":"{offer_id}","response":"{response}","action_id":"{action_id}"'
    return Block("offer_response", "crm", who, ms, body)
