"""A realistic small population for the dashboard's browser test: a few hundred scored customers
across bands, tiers, RFM segments and stages, with score histories, save-team tasks (some
overdue, some worked and closed through the real task layer), agents and the shipped playbooks
(through the real catalog), exposures and holdouts, KPI aggregates (through scoring's KPI store)
and data-quality counts.

Scores, histories and tasks are written as the services write them (``tests/integration/api/
seed.py``); working and closing tasks goes through `churnwatch_alerts.worktasks`, the function
the API's endpoints call.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch_alerts import agents, catalog
from churnwatch_alerts import worktasks as wt
from churnwatch_api.store.keys import create_key
from churnwatch_runtime.db import raw_connection
from churnwatch_scoring import kpi_store
from tests.integration.api.seed import add_exposure, add_scores, add_tasks, score_row, task_row

SEGMENTS = ("champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
            "about_to_sleep", "at_risk", "cannot_lose_them", "hibernating", "lost")  # fmt: skip
STAGES = ("new", "active", "repeat", "at_risk", "lapsed", "churned")
REASONS = (
    ("days_since_last_activity", "no activity for {n} days"),
    ("support_tickets_30d", "{k} support tickets in the last 30 days"),
    ("failed_payments", "{k} failed payments since the last renewal"),
    ("nps", "gave an NPS of {k} last month"),
    ("spend_trend", "spend down {n} % on the previous quarter"),
)


def band_of(p: float) -> str:
    """The scoring defaults' bands (0.15 / 0.35 / 0.6).

    >>> [band_of(p) for p in (0.1, 0.2, 0.5, 0.9)]
    ['low', 'medium', 'high', 'critical']
    """
    return "critical" if p >= 0.6 else "high" if p >= 0.35 else "medium" if p >= 0.15 else "low"


@dataclass
class Seeded:
    customers: list[str] = field(default_factory=list)
    task_customers: list[str] = field(default_factory=list)
    agent_key: str = ""
    admin_key: str = ""
    pii_key: str = ""
    """Agent A-2's key with pii:read: the queue shows whom to call."""
    phones: dict[str, str] = field(default_factory=dict)
    """The directory's phone number of each task customer who has one."""


def _reasons(rng: random.Random) -> str:
    picked = rng.sample(REASONS, 3)
    out = [{"feature": f, "text": t.format(n=rng.randint(20, 70), k=rng.randint(2, 5)),
            "weight": round(0.5 - 0.12 * i, 2)} for i, (f, t) in enumerate(picked)]  # fmt: skip
    return orjson.dumps(out).decode()


async def seed(engine: AsyncEngine, n: int = 300, seed_: int = 7) -> Seeded:
    """Fill a migrated, empty database; returns the customers and three keys (agent A-1,
    admin, agent A-2 with pii:read)."""
    rng = random.Random(seed_)
    now = datetime.now(UTC).replace(microsecond=0)
    out = Seeded()
    rows, history = [], []
    for i in range(n):
        cid = f"C-{10000 + i}"
        p = min(0.97, max(0.02, rng.betavariate(1.4, 2.6)))
        kept = round(rng.lognormvariate(6.3, 0.8), 2)
        clv = round(kept * (1 - p) * rng.uniform(0.8, 1.0), 2)
        at = now - timedelta(hours=rng.randint(1, 72))
        rows.append(score_row(
            cid, p=round(p, 4), band=band_of(p), clv=clv, clv_low=round(clv * 0.75, 2),
            clv_high=round(clv * 1.3, 2), kept=kept, var=round(p * kept, 2), at=at,
            segment=rng.choice(SEGMENTS), stage="at_risk" if p >= 0.35 else rng.choice(STAGES[:3]),
            reasons=_reasons(rng),
        ))  # fmt: skip
        out.customers.append(cid)
        prev, q = None, max(0.02, p - rng.uniform(0.2, 0.5))
        for k in range(6):  # a rising score over the last weeks, ending at today's
            q = p if k == 5 else min(0.97, q + rng.uniform(0.0, (p - q) / 2 + 0.03))
            t = at - timedelta(days=5 * (5 - k), hours=rng.randint(0, 10))
            why = "first" if prev is None else "band_change" if band_of(q) != prev else "move"
            history.append({"c": cid, "t": t, "p": round(q, 4), "band": band_of(q), "prev": prev,
                            "clv": clv, "var": round(q * kept, 2), "why": why})  # fmt: skip
            prev = band_of(q)
    ranked = sorted(rows, key=lambda r: -r["kept"])
    for k, r in enumerate(ranked):  # tiers: top 5 % / next 15 % / next 30 % / rest by value
        share = k / len(ranked)
        r["tier"] = "platinum" if share < 0.05 else "gold" if share < 0.2 else (
            "silver" if share < 0.5 else "bronze")  # fmt: skip
    await add_scores(engine, *rows)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO score_history (customer_id, event_time, churn_probability, band,"
                " previous_band, clv, value_at_risk, model_version, cause_event_id, why)"
                " VALUES (:c, :t, :p, :band, :prev, :clv, :var, 'prior-v1', NULL, :why)"
            ),
            history,
        )
        playbooks = (await _defaults()).strip()
        await catalog.apply_document(conn, playbooks)
    for agent_id in ("A-1", "A-2"):
        await agents.add_agent(engine, agent_id, "save", max_open=50)
    async with engine.begin() as conn:
        _, out.agent_key = await create_key(conn, name="agent-a1", scopes=["read", "tasks:write"],
                                            agent_id="A-1")  # fmt: skip
        _, out.admin_key = await create_key(conn, name="manager", scopes=["admin"])
        _, out.pii_key = await create_key(conn, name="agent-a2", agent_id="A-2",
                                          scopes=["read", "tasks:write", "pii:read"])  # fmt: skip
    await _tasks(engine, rng, rows, now, out)
    await _directory(engine, out)
    await _aggregates(engine, rows, now)
    return out


async def _directory(engine: AsyncEngine, out: Seeded) -> None:
    """Contact details (as the scoring worker writes them from customer_profile events) for
    every task customer but the first, who never gave any."""
    rows = []
    for i, cid in enumerate(out.task_customers[1:], start=1):
        out.phones[cid] = f"+49 30 555 {1000 + i}"
        rows.append({"c": cid, "n": f"Customer {cid[2:]}", "e": f"c{cid[2:]}@example.com",
                     "p": out.phones[cid], "t": datetime.now(UTC)})  # fmt: skip
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO customer_directory (customer_id, name, email, phone, updated_at)"
                 " VALUES (:c, :n, :e, :p, :t)"),
            rows,
        )  # fmt: skip


async def _defaults() -> str:
    from importlib import resources

    return resources.files("churnwatch.alerts").joinpath("defaults/playbooks.yaml").read_text()


async def _tasks(
    engine: AsyncEngine, rng: random.Random, rows: list[dict[str, Any]], now: datetime,
    out: Seeded,
) -> None:  # fmt: skip
    """save_call_vip tasks for at-risk gold and platinum customers, as alerts creates them; some
    past their SLA; a few worked by A-2 and closed (won or lost) through the task layer."""
    vip = [
        r for r in rows if r["band"] in ("high", "critical") and r["tier"] in ("gold", "platinum")
    ]
    vip.sort(key=lambda r: -float(r["var"]))
    tasks, control = [], []
    for k, r in enumerate(vip):
        cid = str(r["c"])
        if k % 10 == 9:  # the playbook's 10 % holdout: exposed, no task
            control.append(cid)
            continue
        created = now - timedelta(hours=rng.randint(2, 40))
        tasks.append(task_row(
            f"T-{cid}", cid, priority=float(r["var"]), tier=r["tier"], created=created,
            due=created + timedelta(hours=8),
        ))  # fmt: skip
    await add_tasks(engine, *tasks)
    for t in tasks:
        await add_exposure(engine, t["id"], t["customer"], at=t["created"], tier=t["tier"])
        out.task_customers.append(t["customer"])
    for i, cid in enumerate(control):
        await add_exposure(engine, f"X-{cid}", cid, arm="control", at=now - timedelta(hours=i + 3))
    for j, t in enumerate(tasks[-6:]):  # A-2's finished work: the save rate's baseline
        await wt.assign(engine, t["id"], "A-2", actor="A-2")
        await wt.start(engine, t["id"], actor="A-2")
        await wt.close(engine, t["id"], "won" if j % 3 == 0 else "lost", actor="A-2",
                       note="seeded outcome")  # fmt: skip


async def _aggregates(engine: AsyncEngine, rows: list[dict[str, Any]], now: datetime) -> None:
    """KPI totals and 30 days of daily rows as scoring's KPI hook keeps them, and per-source
    data-quality counts."""
    totals: dict[tuple[str, str, str, int], float] = {}
    daily: dict[tuple[str, object, str, str, int], float] = {}

    def tot(cut: str, value: str, metric: str, v: float) -> None:
        totals[(cut, value, metric, 0)] = totals.get((cut, value, metric, 0), 0.0) + v

    rng = random.Random(11)
    for r in rows:
        tier, seg, stage = str(r["tier"]), str(r["segment"]), str(r["stage"])
        kept, var = float(r["kept"]), float(r["var"])
        for cut, value in (("all", "all"), ("tier", tier), ("segment", seg)):
            tot(cut, value, "customers", 1)
            tot(cut, value, "value", kept)
            tot(cut, value, "value_at_risk", var)
        tot("all", "all", f"stage:{stage}", 1)
        tot("all", "all", f"rf:{rng.randint(1, 5)}:{rng.randint(1, 5)}", 1)
    today = now.date()
    for d in range(30):
        day = today - timedelta(days=29 - d)
        for stage, n in (("new", 6), ("active", 4), ("repeat", 2), ("at_risk", 3), ("churned", 1)):
            daily[("all", day, "all", f"entered:{stage}", 0)] = n + rng.randint(0, 3)
        for reason in ("price", "service", "moved"):
            daily[("all", day, "all", f"exit:{reason}", 0)] = rng.randint(0, 2)
    async with engine.begin() as conn:
        pg = await raw_connection(conn)
        await kpi_store.add_totals(pg, sorted(totals.items()))
        await kpi_store.add_daily(pg, sorted(daily.items()))  # type: ignore[arg-type]
        qrows = []
        for d in range(14):
            day = today - timedelta(days=13 - d)
            for source, base in (("shop-web", 900), ("billing", 300)):
                qrows.append(((day, source, "accepted", "", "http", 0), base + rng.randint(0, 90)))
                qrows.append(((day, source, "duplicate", "", "http", 0), rng.randint(0, 9)))
                qrows.append(
                    ((day, source, "rejected", "bad_schema", "http", 0), rng.randint(0, 4))
                )
        await kpi_store.add_quality(pg, sorted(qrows))
