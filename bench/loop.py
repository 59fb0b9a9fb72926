"""The closed loop with the simulator, through the real services (issue 6).

Three real processes on a real broker and PostgreSQL — ``python -m churnwatch_scoring``
(worker + outbox relay), ``python -m churnwatch_scoring.learner`` and ``python -m
churnwatch_alerts`` (its periodic uplift job off: it runs once at the end, here) — and this
process as the world: the simulator (replay clock: event time = simulated time), one simulated
day at a time:

1. ``Simulator.step`` → the day's events straight to ``cw.events`` with a `KafkaSink` (key =
   customer id; the raw validator is skipped: the simulator's events are valid by construction
   and the validator would only take CPU from the services on this 2-core machine);
2. **barrier**: scoring's committed offsets (``consumer_offsets``, stored with its state) reach
   the end offsets of ``cw.events`` on every partition and the outbox is empty (every score
   relayed); then alerts' reach those of ``cw.scores`` and the outbox is empty again (every
   action relayed); then our ``cw.actions`` reader has received up to that topic's end offsets;
3. the day's new ``exposures`` (both arms) from PostgreSQL, each with the simulator oracle's
   true uplift of the playbook's action for that customer at that moment (``treatment.effects``
   + ``uplift``, exactly as ``bench.bench_uplift`` and ``apply_action`` compute it) —
   computed for all of them before any action is applied;
4. the actions on ``cw.actions`` (`KafkaActionReader`) whose ``issued_at`` (the score's event
   time) is before the next simulated midnight → ``Simulator.apply_action``: they act from the
   next simulated day on.

At the end `churnwatch_alerts.uplift.run_once` (watermark: scoring's partition watermarks)
resolves the exposures whose horizon has passed and stores ``uplift_reports``; each playbook's
measured uplift is compared with the mean true uplift over the same resolved exposures
(`bench.loop_report`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import numpy as np

from bench.harness import Context
from bench.infra import wait_ready
from bench.loop_procs import HORIZON_DAYS, PLAYBOOK, pg_url, seed_measured, service_env, services
from bench.loop_report import Exposed, PlaybookRow, compare, realised_churn
from churnwatch_runtime.db import Pg

if TYPE_CHECKING:
    import subprocess

    from churnwatch_sim import KafkaActionReader, KafkaSink, Simulator

__all__ = ["HORIZON_DAYS", "PLAYBOOK", "LoopConfig", "LoopResult", "closed_loop"]


@dataclass(frozen=True, slots=True)
class LoopConfig:
    """Size and knobs of one run. ``vip_holdout``: apply save_call_vip version 2 with this
    control share (`loop_procs.measured_playbook`) before alerts starts; None measures the
    shipped playbooks as they are (10%: the VIP arm then has few controls)."""

    customers: int
    days: int
    seed: int = 11
    partitions: int = 6
    vip_holdout: float | None = None
    barrier_timeout_s: float = 300.0


@dataclass(slots=True)
class LoopResult:
    """What one run did and measured (see the module docstring)."""

    config: LoopConfig
    events: int = 0
    scores: int = 0
    seconds: float = 0.0
    barrier_seconds: float = 0.0
    exposed: dict[str, Exposed] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)  # ActionResult.status
    received: set[str] = field(default_factory=set)  # action ids read from cw.actions
    left_waiting: int = 0  # actions never drained (issued after the last day)
    on_topic: int = 0  # messages on cw.actions at the end (len(received) distinct ids)
    missed: int = 0  # exposures in the database the loop never read
    uplift_status: str = ""
    watermark: datetime | None = None
    rows: dict[str, PlaybookRow] = field(default_factory=dict)

    @property
    def arms(self) -> Counter[str]:
        return Counter(e.arm for e in self.exposed.values())


class _Loop:
    """One run's moving parts; `closed_loop` wires them and the processes."""

    def __init__(
        self,
        cfg: LoopConfig,
        bootstrap: str,
        db_url: str,
        topics: dict[str, str],
        groups: dict[str, str],
        procs: dict[str, subprocess.Popen[bytes]],
    ) -> None:
        from churnwatch_sim import SimConfig, Simulator

        sim_cfg = SimConfig(days=cfg.days, seed=cfg.seed).with_overrides(
            **{"population.customers": cfg.customers, "treatment.horizon_days": HORIZON_DAYS}
        )
        self.sim: Simulator = Simulator(sim_cfg)
        self.cfg, self.bootstrap, self.db_url = cfg, bootstrap, db_url
        self.topics, self.groups, self.procs = topics, groups, procs
        self.result = LoopResult(cfg)
        self.churn_days: dict[int, list[int]] = defaultdict(list)
        self.actions: dict[str, tuple[str, dict[str, Any]]] = {}  # playbook → (type, params)
        self.pg: Pg = None
        self.offsets: Any = None  # an AIOKafkaConsumer used for end offsets only
        self.reader: KafkaActionReader | None = None
        self.sink: KafkaSink | None = None

    async def start(self) -> None:
        import asyncpg
        from aiokafka import AIOKafkaConsumer

        from churnwatch_alerts.playbooks import parse_playbooks_from_yaml
        from churnwatch_sim import KafkaActionReader, KafkaSink

        self.pg = await asyncpg.connect(pg_url(self.db_url))
        texts = await self.pg.fetch("SELECT yaml FROM playbooks WHERE enabled")
        for pb in parse_playbooks_from_yaml([t[0] for t in texts]):
            params: dict[str, Any] = dict(pb.action.params)
            if pb.action.discount_pct is not None:
                params["discount_pct"] = pb.action.discount_pct
            self.actions[pb.id] = (pb.action.type, params)
        self.offsets = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        await self.offsets.start()
        consumer = AIOKafkaConsumer(
            self.topics["actions"],
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self.reader = KafkaActionReader(
            self.bootstrap, topic=self.topics["actions"], consumer=consumer
        )
        await self.reader.start()
        self.sink = KafkaSink(self.bootstrap, topic=self.topics["events"])

    async def close(self) -> None:
        if self.sink is not None:
            await self.sink.close()
        if self.reader is not None:
            await self.reader.stop()
        if self.offsets is not None:
            await self.offsets.stop()
        if self.pg is not None:
            await self.pg.close()

    async def run(self) -> None:
        started = time.perf_counter()
        while not self.sim.done:
            await self._day()
        self.result.left_waiting = len(self.reader.waiting) if self.reader else 0
        self.result.seconds = time.perf_counter() - started

    async def _day(self) -> None:
        sim, sink = self.sim, self.sink
        assert sink is not None
        day = sim.day
        produced = sim.step()
        for lines in produced.chunks(20_000):
            await sink.send(lines)
        self.result.events += produced.count
        for i in np.flatnonzero(sim.pop.churn_day == day).tolist():
            self.churn_days[i].append(day)
        t0 = time.perf_counter()
        await self._barrier()
        self.result.barrier_seconds += time.perf_counter() - t0
        await self._expose(day)
        self._act()

    async def _ends(self, topic: str) -> dict[int, int]:
        from aiokafka import TopicPartition

        parts = [TopicPartition(topic, p) for p in range(self.cfg.partitions)]
        ends = await self.offsets.end_offsets(parts)
        return {tp.partition: int(n) for tp, n in ends.items()}

    async def _committed(self, group: str, topic: str) -> dict[int, int]:
        rows = await self.pg.fetch(
            "SELECT partition, next_offset FROM consumer_offsets"
            " WHERE group_id = $1 AND topic = $2",
            group,
            topic,
        )
        return {int(p): int(n) for p, n in rows}

    async def _until(self, done: Callable[[], Any], what: str) -> None:
        deadline = time.monotonic() + self.cfg.barrier_timeout_s
        while not await done():
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"barrier: {what} not reached on day {self.sim.day}")
            await asyncio.sleep(0.02)

    async def _caught_up(self, group: str, topic: str) -> None:
        ends = await self._ends(topic)

        async def done() -> bool:
            got = await self._committed(group, topic)
            if any(got.get(p, 0) < n for p, n in ends.items()):
                return False
            return int(await self.pg.fetchval("SELECT count(*) FROM outbox")) == 0

        await self._until(done, f"{group} on {topic}")

    async def _barrier(self) -> None:
        """Scoring caught up and relayed, then alerts, then our action reader (docstring)."""
        await self._caught_up(self.groups["scoring"], self.topics["events"])
        await self._caught_up(self.groups["alerts"], self.topics["scores"])
        total = sum((await self._ends(self.topics["actions"])).values())
        reader = self.reader
        assert reader is not None

        async def done() -> bool:
            return reader.received >= total

        await self._until(done, "cw.actions reader")

    async def _expose(self, day: int) -> None:
        """Log the exposures not seen yet with the oracle's truth (before any action today)."""
        from churnwatch_sim.actions import customer_index

        sim, seen = self.sim, self.result.exposed
        since = sim.start_of(max(0, day - 2))
        rows = await self.pg.fetch(
            "SELECT action_id, customer_id, playbook_id, arm, exposed_at FROM exposures"
            " WHERE exposed_at >= $1",
            since,
        )
        new = [r for r in rows if r[0] not in seen]
        by_type: dict[str, list[tuple[Any, int]]] = defaultdict(list)
        for r in new:
            i = customer_index(r[1], sim.pop.size)
            if i is None:
                raise RuntimeError(f"exposure of an unknown customer {r[1]!r}")
            by_type[r[2]].append((r, i))
        for playbook_id, items in by_type.items():
            action_type, params = self.actions[playbook_id]
            up, p0, alive = self._oracle([i for _, i in items], action_type, params)
            for k, (r, i) in enumerate(items):
                late = r[4] < sim.start_of(day)
                seen[r[0]] = Exposed(
                    r[0],
                    i,
                    playbook_id,
                    action_type,
                    r[3],
                    day,
                    float(up[k]),
                    float(p0[k]),
                    bool(alive[k]),
                    late,
                )

    def _oracle(
        self, customers: list[int], action_type: str, params: dict[str, Any]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(true uplift, P(churn in the horizon) without action, alive) per customer, for the
        action taking effect from the simulator's current day (what `apply_action` computes)."""
        from churnwatch_sim.treatment import effects, uplift

        sim = self.sim
        idx = np.array(customers, dtype=np.intp)
        s = sim.situation(idx)
        fx = effects(action_type, params, s, sim.config)
        p0, p1 = uplift(
            sim.rates(idx, sim.day),
            sim.exposure(idx, sim.day),
            fx,
            s.alive,
            sim.config,
            sim.multiplier(idx, sim.day),
        )
        return p0 - p1, p0, s.alive

    def _act(self) -> None:
        reader, sim, res = self.reader, self.sim, self.result
        assert reader is not None
        for action in reader.drain(sim.start_of(sim.day)):
            res.received.add(action.action_id)
            outcome = sim.apply_action(action)
            res.statuses[outcome.status] += 1
            e = res.exposed.get(action.action_id)
            if e is not None and outcome.status == "applied":
                e.applied_uplift = outcome.true_uplift

    async def finish(self) -> None:
        """The uplift job once; every playbook's stored report beside the truth."""
        from churnwatch.alerts import Interval
        from churnwatch_alerts.uplift import UpliftConfig, run_once
        from churnwatch_runtime.db import make_engine

        res, pg = self.result, self.pg
        res.scores = sum((await self._ends(self.topics["scores"])).values())
        res.on_topic = sum((await self._ends(self.topics["actions"])).values())
        engine = make_engine(self.db_url)
        try:
            cfg = UpliftConfig(
                horizon=timedelta(days=HORIZON_DAYS), watermark_group=self.groups["scoring"]
            )
            run = await run_once(engine, cfg)
        finally:
            await engine.dispose()
        res.uplift_status, res.watermark = run.status, run.watermark
        everything = await pg.fetch("SELECT action_id, playbook_id, arm, churned FROM exposures")
        res.missed = sum(1 for r in everything if r[0] not in res.exposed)
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for r in everything:
            counts[r[1]][r[2]] += 1
        resolved = [(r[0], r[1], r[2]) for r in everything if r[3] is not None]
        realised = {
            a: realised_churn(
                res.exposed[a], self.churn_days[res.exposed[a].customer], HORIZON_DAYS
            )
            for a, _, _ in resolved
            if a in res.exposed
        }
        stored = {}
        for r in await pg.fetch(
            "SELECT playbook_id, treated, control, churn_treated, churn_control, uplift,"
            " uplift_low, uplift_high FROM uplift_reports WHERE segment = 'all'"
            " AND computed_at = (SELECT max(computed_at) FROM uplift_reports)"
        ):
            interval = None if r[5] is None else Interval(r[5], r[6], r[7])
            stored[r[0]] = (int(r[1]), int(r[2]), r[3], r[4], interval)
        res.rows = compare(stored, resolved, res.exposed, realised, counts)


async def closed_loop(ctx: Context, bootstrap: str, db_url: str, cfg: LoopConfig) -> LoopResult:
    """Run the loop of the module docstring on this broker and (fresh, migrated) database."""
    from churnwatch_runtime.infra._proc import free_port
    from churnwatch_runtime.kafka import ensure_topics

    tag = uuid4().hex[:10]
    topics = {k: f"loop.{tag}.{k}" for k in ("events", "raw", "dlq", "scores", "actions")}
    await ensure_topics(bootstrap, list(topics.values()), partitions=cfg.partitions)
    if cfg.vip_holdout is not None:
        await seed_measured(db_url, cfg.vip_holdout)
    groups = {"scoring": f"loop-scoring-{tag}", "alerts": f"loop-alerts-{tag}"}
    ports = {"scoring": free_port(), "alerts": free_port()}
    env = service_env(bootstrap, db_url, topics, groups, ports, cfg.partitions)
    with services(ctx, env) as procs:
        for name in ("scoring", "alerts"):
            await wait_ready(f"http://127.0.0.1:{ports[name]}/readyz", procs[name])
        loop = _Loop(cfg, bootstrap, db_url, topics, groups, procs)
        try:
            await loop.start()
            await loop.run()
            await loop.finish()
        finally:
            await loop.close()
    return loop.result
