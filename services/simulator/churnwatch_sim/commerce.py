"""Money: retail purchases (Pareto/NBD), refunds, and the subscription billing cycle.

Retail customers buy as a Poisson process at their own rate ``lambda_i`` while alive (the
"buy" of buy-till-you-die; the "die" is the hazard model), each order worth a Gamma(p, nu_i)
amount (Gamma-Gamma). Subscribers are billed every period; a failed payment is retried on the
configured days, after which the invoice stays in dunning until the card is fixed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from churnwatch_sim.activity import Day
from churnwatch_sim.blocks import Block, Labels, money
from churnwatch_sim.population import PERIOD_DAYS, PERIOD_NAMES, PERIOD_PRICE_FACTOR, SUBSCRIPTION
from churnwatch_sim.timing import WEEKDAY_FACTOR, sample_ms

__all__ = ["RefundBook", "billing", "changed_block", "price_factor", "purchases", "renewed_block"]

ORDER_CHANNELS = ("web", "mobile_app", "store")
REFUND_REASONS = ("damaged", "not_as_described", "late", "changed_mind", "other")
FAIL_REASONS = ("insufficient_funds", "card_expired", "card_declined", "other")


def price_factor(day: int, increase_day: int | None, pct: float) -> float:
    """Price level on ``day``: 1 before the planned increase, ``1 + pct`` from it on.

    >>> price_factor(10, 90, 0.12), price_factor(90, 90, 0.12), price_factor(5, None, 0.12)
    (1.0, 1.12, 1.0)
    """
    return 1.0 + pct if increase_day is not None and day >= increase_day else 1.0


@dataclass(slots=True)
class RefundBook:
    """Refunds scheduled for later days: day → (customer, order number, cents, reason) arrays."""

    due: dict[int, list[tuple[NDArray[np.int64], ...]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, day: int, *cols: NDArray[np.int64]) -> None:
        if len(cols[0]):
            self.due[day].append(cols)

    def pop(self, day: int) -> tuple[NDArray[np.int64], ...]:
        parts = self.due.pop(day, [])
        if not parts:
            return tuple(np.zeros(0, dtype=np.int64) for _ in range(4))
        return tuple(np.concatenate(c) for c in zip(*parts, strict=True))

    def pending(self) -> int:
        return sum(len(p[0]) for parts in self.due.values() for p in parts)


def purchases(d: Day, book: RefundBook) -> list[Block]:
    """Retail orders of the day, refunds falling due today, and refunds planned for later."""
    pc, ac, bc, pop, rng = d.config.population, d.config.activity, d.config.billing, d.pop, d.rng
    a = d.alive[pop.kind[d.alive] != SUBSCRIPTION]
    rate = pop.purchase_rate[a] * WEEKDAY_FACTOR[d.weekday]
    rate = np.where(pop.boost_until[a] > d.index, rate * pop.boost[a], rate)
    counts = rng.poisson(rate)
    who = np.repeat(a, counts).astype(np.int32)
    n = len(who)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    order_no = pop.order_seq[who] + (np.arange(n) - first) + 1
    pop.order_seq[a] += counts.astype(np.int32)
    level = price_factor(d.index, bc.price_increase_day, bc.price_increase_pct)
    amount = rng.gamma(pc.spend_p, 1.0 / pop.spend_nu[who]) * level
    cents = np.maximum(np.rint(amount * 100), 1).astype(np.int64)
    items = 1 + rng.poisson(amount / 50.0)
    order = Block(
        "purchase",
        "shop-web",
        who,
        sample_ms(rng, n, "consumer", d.weekday),
        f'"order_id":"O-%d-%d","amount":"%d.%02d","currency":"{bc.currency}","items":%d,'
        '"channel":"%s"',
        (
            who,
            order_no,
            *money(cents),
            items,
            Labels(rng.choice(3, n, p=[0.6, 0.3, 0.1]), ORDER_CHANNELS),
        ),
        value=cents,
    )
    back = rng.random(n) < ac.refund_share
    lo, hi = ac.refund_delay
    when = d.index + rng.integers(lo, hi + 1, n)
    reason = rng.choice(len(REFUND_REASONS), n)
    for day in np.unique(when[back]).tolist():
        sel = back & (when == day)
        book.add(
            day,
            who[sel].astype(np.int64),
            order_no[sel].astype(np.int64),
            cents[sel],
            reason[sel].astype(np.int64),
        )
    return [order, _refunds(d, book)]


def _refunds(d: Day, book: RefundBook) -> Block:
    cust, order_no, cents, reason = book.pop(d.index)
    alive = d.pop.status[cust] == 1
    cust, order_no, cents, reason = cust[alive], order_no[alive], cents[alive], reason[alive]
    who = cust.astype(np.int32)
    return Block(
        "refund",
        "shop-web",
        who,
        sample_ms(d.rng, len(who), "office", d.weekday),
        '"refund_id":"R-%d-%d","order_id":"O-%d-%d","amount":"%d.%02d",'
        f'"currency":"{d.config.billing.currency}","reason":"%s"',
        (who, order_no, who, order_no, *money(cents), Labels(reason, REFUND_REASONS)),
        value=-cents,
    )


def billing(d: Day) -> list[Block]:
    """Price increase, plan changes, renewals, payment failures and retries of subscribers."""
    bc, pop, rng = d.config.billing, d.pop, d.rng
    is_sub = pop.kind[d.alive] == SUBSCRIPTION
    a, eng = d.alive[is_sub], d.engagement[is_sub]
    blocks: list[Block] = []
    level = price_factor(d.index, bc.price_increase_day, bc.price_increase_pct)
    if bc.price_increase_day == d.index and bc.price_increase_pct > 0:
        old = pop.price_cents[a].copy()
        pop.price_cents[a] = np.rint(old * level).astype(np.int32)
        blocks.append(changed_block(d, a, "price_increase", pop.plan[a], old))

    u = rng.random(len(a))
    top = len(bc.plans) - 1
    up = (pop.plan[a] < top) & (u < bc.upgrade_rate * 2.0 * eng)
    after = float(level > 1.0)
    down_rate = bc.downgrade_rate * (2.0 - 2.0 * eng + 4.0 * pop.price_sens[a] * after)
    down = ~up & (pop.plan[a] > 0) & (u > 1.0 - down_rate)
    for change, mask, step in (("upgrade", up, 1), ("downgrade", down, -1)):
        who = a[mask]
        old_plan, old_price = pop.plan[who].copy(), pop.price_cents[who].copy()
        pop.plan[who] = old_plan + step
        monthly = np.asarray(bc.plan_prices)[pop.plan[who]] * PERIOD_PRICE_FACTOR[pop.period[who]]
        pop.price_cents[who] = np.rint(monthly * level * 100).astype(np.int32)
        blocks.append(changed_block(d, who, change, old_plan, old_price))

    fails = pop.failures[a]
    due = (pop.next_bill[a] == d.index) & (fails == 0)
    retry = (fails > 0) & (pop.next_retry[a] == d.index)
    u = rng.random(len(a))
    p_fail = np.where(retry, np.minimum(0.95, pop.pay_fail[a] + 0.35), pop.pay_fail[a])
    failed = (due | retry) & (u < p_fail)
    fixed = (fails > 0) & (pop.next_retry[a] == -1) & (u < bc.card_fix_rate)
    paid = a[((due | retry) & ~failed) | fixed]
    failed_who = a[failed]

    pop.failures[failed_who] += 1
    f = pop.failures[failed_who].astype(np.int64)
    offsets = np.asarray((*bc.retry_days, -1), dtype=np.int64)
    nxt = np.minimum(f - 1, len(bc.retry_days))
    pop.next_retry[failed_who] = np.where(
        offsets[nxt] >= 0, pop.next_bill[failed_who] + offsets[nxt], -1
    ).astype(np.int32)
    blocks.append(_failed_block(d, failed_who.astype(np.int32)))
    blocks.append(renewed_block(d, paid.astype(np.int32)))
    return blocks


def renewed_block(d: Day, who: NDArray[np.int32], ms: NDArray[np.int32] | None = None) -> Block:
    """Successful payment of the open invoice: renewal event, next invoice a period later."""
    pop, bc = d.pop, d.config.billing
    cents = pop.price_cents[who].astype(np.int64)
    block = Block(
        "subscription_renewed",
        "billing",
        who,
        sample_ms(d.rng, len(who), "billing", d.weekday) if ms is None else ms,
        '"subscription_id":"SUB-%d-%d","plan":"%s","price":"%d.%02d",'
        f'"currency":"{bc.currency}","billing_period":"%s"',
        (
            who,
            pop.sub_seq[who],
            Labels(pop.plan[who], bc.plans),
            *money(cents),
            Labels(pop.period[who], PERIOD_NAMES),
        ),
        value=cents,
    )
    pop.next_bill[who] += PERIOD_DAYS[pop.period[who]]
    pop.failures[who] = 0
    pop.next_retry[who] = -1
    return block


def _failed_block(d: Day, who: NDArray[np.int32]) -> Block:
    pop, n = d.pop, len(who)
    bad = pop.pay_fail[who] >= d.config.billing.bad_card_fail
    reason = np.where(bad, d.rng.choice([1, 2], n), d.rng.choice([0, 0, 0, 3], n))
    return Block(
        "payment_failed",
        "billing",
        who,
        sample_ms(d.rng, n, "billing", d.weekday),
        '"payment_id":"P-%d-%d","amount":"%d.%02d",'
        f'"currency":"{d.config.billing.currency}","attempt":%d,"reason":"%s",'
        '"subscription_id":"SUB-%d-%d"',
        (
            who,
            pop.next_bill[who],
            *money(pop.price_cents[who]),
            pop.failures[who],
            Labels(reason, FAIL_REASONS),
            who,
            pop.sub_seq[who],
        ),
    )


def changed_block(
    d: Day,
    who: NDArray[np.intp],
    change: str,
    from_plan: NDArray[np.int8],
    old_cents: NDArray[np.int32],
) -> Block:
    """``subscription_changed`` from ``from_plan`` at ``old_cents`` to the current plan."""
    pop, bc = d.pop, d.config.billing
    w = who.astype(np.int32)
    return Block(
        "subscription_changed",
        "billing",
        w,
        sample_ms(d.rng, len(w), "office", d.weekday),
        f'"subscription_id":"SUB-%d-%d","change":"{change}","from_plan":"%s","to_plan":"%s",'
        f'"old_price":"%d.%02d","new_price":"%d.%02d","currency":"{bc.currency}",'
        '"billing_period":"%s"',
        (
            w,
            pop.sub_seq[w],
            Labels(from_plan, bc.plans),
            Labels(pop.plan[w], bc.plans),
            *money(old_cents),
            *money(pop.price_cents[w]),
            Labels(pop.period[w], PERIOD_NAMES),
        ),
    )
