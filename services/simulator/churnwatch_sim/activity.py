"""Engagement-driven behaviour of living customers: sessions, feature use, e-mail, support.

Each function draws one simulated day for all customers at once and returns event blocks; those
that follow open items (tickets, complaints) also update the population's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from churnwatch_sim.blocks import ROW, Block, Labels
from churnwatch_sim.config import SimConfig
from churnwatch_sim.population import SUBSCRIPTION, Population
from churnwatch_sim.timing import DAY_MS, WEEKDAY_FACTOR, sample_ms

__all__ = ["Day", "complaints", "emails", "nps", "sessions", "tickets"]

CHANNELS = ("web", "mobile_app")
FEATURES = ("dashboard", "search", "export", "share", "reports", "settings", "playlist", "upload")
_FEATURE_P = np.array([30, 20, 8, 10, 12, 5, 10, 5], dtype=np.float64) / 100
TICKET_CHANNELS = ("email", "chat", "phone")
PRIORITIES = ("low", "normal", "high", "urgent")
TOPICS = ("billing", "delivery", "account", "product", "other")
COMPLAINT_REASONS = ("product_quality", "delivery", "billing", "service", "price", "other")
_REASON_P = {
    0: np.array([30, 30, 2, 18, 12, 8], dtype=np.float64) / 100,  # retail
    1: np.array([20, 0, 30, 28, 14, 8], dtype=np.float64) / 100,  # subscription
}
SEVERITIES = ("low", "medium", "high")


@dataclass(slots=True)
class Day:
    """One simulated day: its index, date, random stream and the customers alive at dawn."""

    index: int
    date: date
    weekday: int
    rng: np.random.Generator
    config: SimConfig
    pop: Population
    alive: NDArray[np.intp]
    engagement: NDArray[np.float64]  # in (0, 1), aligned with ``alive``

    def after(self, ms: NDArray[np.int32], gap_ms: NDArray[np.int64]) -> NDArray[np.int32]:
        """``ms + gap`` kept inside the day (the last millisecond at worst)."""
        return np.asarray(np.minimum(ms.astype(np.int64) + 1 + gap_ms, DAY_MS - 1), dtype=np.int32)


def sessions(d: Day) -> list[Block]:
    """Sessions (rate grows with engagement), and feature use inside subscribers' sessions."""
    ac, pop, rng = d.config.activity, d.pop, d.rng
    sub = pop.kind[d.alive] == SUBSCRIPTION
    rate = np.where(sub, ac.sessions_subscription, ac.sessions_retail * WEEKDAY_FACTOR[d.weekday])
    counts = rng.poisson(rate * 2.0 * d.engagement)
    cust = np.repeat(d.alive, counts).astype(np.int32)
    eng = np.repeat(d.engagement, counts)
    is_sub = np.repeat(sub, counts)
    n = len(cust)
    ms = sample_ms(rng, n, "consumer", d.weekday)
    channel = (rng.random(n) < np.where(is_sub, 0.55, 0.4)).astype(np.int8)
    duration = np.clip(rng.lognormal(np.log(240.0 * (0.5 + eng)), 0.8), 5, 86_400).astype(np.int64)
    pages = 1 + rng.poisson(duration / 90.0)
    blocks = []
    for kind, source in ((True, "app"), (False, "shop-web")):
        keep = is_sub == kind
        blocks.append(
            Block(
                "session",
                source,
                cust[keep],
                ms[keep],
                f'"session_id":"S-{d.index}-{int(kind)}-%d","channel":"%s",'
                '"duration_seconds":%d,"pages":%d',
                (ROW, Labels(channel[keep], CHANNELS), duration[keep], pages[keep]),
            )
        )
    # feature use of subscribers, during their sessions
    f_counts = rng.poisson(ac.features_per_session * 2.0 * eng * is_sub)
    parent = np.repeat(np.arange(n), f_counts)
    gap = (rng.random(len(parent)) * duration[parent] * 1000).astype(np.int64)
    blocks.append(
        Block(
            "feature_use",
            "app",
            cust[parent],
            d.after(ms[parent], gap),
            '"feature":"%s","count":%d,"channel":"%s"',
            (
                Labels(rng.choice(len(FEATURES), len(parent), p=_FEATURE_P), FEATURES),
                1 + rng.poisson(1.0, len(parent)),
                Labels(channel[parent], CHANNELS),
            ),
        )
    )
    return blocks


def emails(d: Day) -> list[Block]:
    """Campaign days: delivered or bounced, then opened, clicked, unsubscribed."""
    ac, pop, rng = d.config.activity, d.pop, d.rng
    if d.weekday not in ac.email_weekdays:
        return []
    ok = pop.email_ok[d.alive]
    to, eng = d.alive[ok].astype(np.int32), d.engagement[ok]
    n = len(to)
    sent = sample_ms(rng, n, "campaign", d.weekday)
    bounced = rng.random(n) < ac.email_bounce
    opened = ~bounced & (rng.random(n) < np.minimum(0.95, ac.email_open * 2.0 * eng))
    clicked = opened & (rng.random(n) < np.minimum(0.95, ac.email_click * 2.0 * eng))
    unsub = ~bounced & (rng.random(n) < ac.email_unsubscribe * 2.0 * (1.0 - eng))
    open_ms = d.after(sent, rng.lognormal(np.log(3_600_000.0), 1.0, n).astype(np.int64))
    click_ms = d.after(open_ms, rng.exponential(60_000.0, n).astype(np.int64))
    unsub_ms = d.after(np.maximum(open_ms, click_ms), rng.exponential(30_000.0, n).astype(np.int64))
    pop.email_ok[to[unsub]] = False
    body = f'"campaign_id":"CMP-{d.index}","action":"%s"'
    steps = (
        ("delivered", ~bounced, sent),
        ("bounced", bounced, sent),
        ("opened", opened, open_ms),
        ("clicked", clicked, click_ms),
        ("unsubscribed", unsub, unsub_ms),
    )
    return [Block("email_engagement", "crm", to[m], t[m], body % action) for action, m, t in steps]


def tickets(d: Day) -> list[Block]:
    """Support tickets: resolve or stay open, reopen soon after, new ones (more with complaints)."""
    ac, pop, rng = d.config.activity, d.pop, d.rng
    a = d.alive
    open_now = pop.ticket_open[a]
    u = rng.random(len(a))
    resolve = open_now & (u < ac.ticket_resolve)
    recent = ~open_now & (d.index - pop.ticket_resolved_day[a] <= 7)
    reopen = recent & (u < ac.ticket_reopen / 7.0)
    rate = ac.ticket_rate * (1.0 + 2.0 * (pop.complaint_open[a] > 0))
    new = ~open_now & ~reopen & (u > 1.0 - rate)
    pop.ticket_seq[a[new]] += 1
    pop.ticket_open[a[new | reopen]] = True
    pop.ticket_open[a[resolve]] = False
    pop.ticket_resolved_day[a[resolve]] = d.index
    blocks = []
    for status, mask in (("opened", new), ("reopened", reopen), ("resolved", resolve)):
        who = a[mask].astype(np.int32)
        n = len(who)
        blocks.append(
            Block(
                "support_ticket",
                "crm",
                who,
                sample_ms(rng, n, "office", d.weekday),
                f'"ticket_id":"T-%d-%d","status":"{status}","channel":"%s","priority":"%s",'
                '"topic":"%s"',
                (
                    who,
                    pop.ticket_seq[who],
                    Labels(rng.choice(3, n, p=[0.5, 0.3, 0.2]), TICKET_CHANNELS),
                    Labels(rng.choice(4, n, p=[0.2, 0.55, 0.2, 0.05]), PRIORITIES),
                    Labels(rng.integers(0, len(TOPICS), n), TOPICS),
                ),
            )
        )
    return blocks


def complaints(d: Day) -> list[Block]:
    """Complaints open, escalate and (unless stuck) resolve; arrivals grow with service needs."""
    ac, pop, rng = d.config.activity, d.pop, d.rng
    a = d.alive
    state = pop.complaint_open[a]
    u = rng.random(len(a))
    resolve = (state > 0) & ~pop.complaint_stuck[a] & (u < ac.complaint_resolve)
    escalate = (state == 1) & ~resolve & (u > 1.0 - ac.complaint_escalate)
    rate = ac.complaint_rate * 2.0 * (0.3 + pop.service_sens[a])
    new = (state == 0) & (u < rate)
    opened = a[new]
    pop.complaint_seq[opened] += 1
    pop.complaint_open[opened] = 1
    pop.complaint_stuck[opened] = rng.random(len(opened)) < ac.complaint_stuck_share
    pop.complaint_open[a[escalate]] = 2
    pop.complaint_open[a[resolve]] = 0
    return [
        complaint_block(d, a[mask].astype(np.int32), status)
        for status, mask in (("opened", new), ("escalated", escalate), ("resolved", resolve))
    ]


def complaint_block(
    d: Day, who: NDArray[np.int32], status: str, ms: NDArray[np.int32] | None = None
) -> Block:
    """Complaint events of ``status`` for customers ``who`` (their current complaint)."""
    pop, rng = d.pop, d.rng
    n = len(who)
    reason = np.empty(n, dtype=np.int64)
    for kind, p in _REASON_P.items():
        sel = pop.kind[who] == kind
        reason[sel] = rng.choice(len(COMPLAINT_REASONS), int(sel.sum()), p=p)
    severity = np.digitize(pop.service_sens[who] + rng.normal(0, 0.15, n), [0.3, 0.6])
    return Block(
        "complaint",
        "callcentre",
        who,
        sample_ms(rng, n, "office", d.weekday) if ms is None else ms,
        f'"complaint_id":"CP-%d-%d","status":"{status}","reason":"%s","severity":"%s",'
        '"channel":"%s"',
        (
            who,
            pop.complaint_seq[who],
            Labels(reason, COMPLAINT_REASONS),
            Labels(severity, SEVERITIES),
            Labels(rng.choice(3, n, p=[0.6, 0.3, 0.1]), ("phone", "email", "chat")),
        ),
    )


def nps(d: Day) -> list[Block]:
    """NPS answers: high with engagement, low with an open complaint or failed payments."""
    ac, pop, rng = d.config.activity, d.pop, d.rng
    ans = rng.random(len(d.alive)) < ac.nps_rate * ac.nps_response
    who = d.alive[ans].astype(np.int32)
    mean = (
        3.0
        + 7.0 * d.engagement[ans]
        - 3.0 * (pop.complaint_open[who] > 0)
        - 2.0 * (pop.failures[who] >= 2)
    )
    score = np.clip(np.rint(rng.normal(mean, 1.5)), 0, 10).astype(np.int64)
    survey = f"NPS-{d.date.year}-{d.date.month:02d}"
    return [
        Block(
            "nps",
            "crm",
            who,
            sample_ms(rng, len(who), "consumer", d.weekday),
            f'"score":%d,"survey_id":"{survey}"',
            (score,),
        )
    ]
