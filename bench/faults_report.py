"""The fault run beside the clean run (`bench.faults`): the promise (nothing lost, nothing
doubled, no task twice) and the equalities, as numbers and a printed table."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.faults import FaultConfig, Run, history, run
from bench.faults_check import SCORE_COLUMNS, Final, final
from bench.faults_infra import Cluster


@dataclass
class Comparison:
    """Counts of what differs; the first three are the issue's promise (each must be 0)."""

    faults: list[str]
    accepted: int
    erased: int  # customers erased by the history (left out of lost/doubled)
    lost: int
    doubled: int
    duplicate_tasks: int
    profiles_differ: int
    scores_differ: int
    score_columns: Counter[str]
    model_versions: tuple[dict[str, int], dict[str, int]]
    tasks_missing: int
    tasks_extra: int
    actions_missing: int
    actions_extra: int
    action_dup_ids: int  # one action id under two different cw-msg-ids (a real double)
    action_republished: int  # the same message twice (at-least-once relay; consumers dedupe)
    deliveries_differ: int
    receiver_missing: int
    receiver_twice: int  # an action answered 2xx twice (at-least-once; receivers dedupe)
    lag_clean: dict[str, int]
    lag_faults: dict[str, int]
    unplanned_exits: dict[str, int]
    seconds: tuple[float, float]
    feed: dict[str, Any] = field(default_factory=dict)

    @property
    def promise_kept(self) -> bool:
        return self.lost == self.doubled == self.duplicate_tasks == 0

    @property
    def equal(self) -> bool:
        return not any((self.profiles_differ, self.scores_differ, self.tasks_missing,
                        self.tasks_extra, self.actions_missing, self.actions_extra,
                        self.deliveries_differ, self.receiver_missing))  # fmt: skip


def compare(clean: Final, hit: Final, r: Run, clean_run: Run) -> Comparison:
    # an erased customer's profile is wiped on purpose: counted apart, not as a loss
    expected = {c: n for c, n in r.feed.expected.items() if c not in r.feed.erased}
    lost = sum(max(0, n - hit.events.get(c, 0)) for c, n in expected.items())
    doubled = sum(max(0, n - expected.get(c, 0)) for c, n in hit.events.items() if c in expected)
    cols: Counter[str] = Counter()
    differ = 0
    for c in set(clean.scores) | set(hit.scores):
        a, b = clean.scores.get(c), hit.scores.get(c)
        if a != b:
            differ += 1
            if a is None or b is None:
                cols["(missing row)"] += 1
            else:
                cols.update(n for n, x, y in zip(SCORE_COLUMNS, a, b, strict=True) if x != y)
    task_ids = Counter(t for t, _, _ in hit.tasks)
    # the same task twice: an id twice, or a (customer, playbook) with two or more tasks where
    # the clean run had fewer (a task for another trigger is a difference, not a duplicate)
    pairs, clean_pairs = (Counter((c, p) for _, c, p in f.tasks) for f in (hit, clean))
    dup_tasks = sum(n - 1 for n in task_ids.values() if n > 1) + sum(
        n - clean_pairs[k] for k, n in pairs.items() if n > 1 and n > clean_pairs[k]
    )
    clean_ids, hit_ids = {t for t, _, _ in clean.tasks}, set(task_ids)
    by_action = Counter(a for a, _ in hit.action_msgs)
    return Comparison(
        faults=[f for _, f, _ in r.feed.fired],
        accepted=sum(r.feed.expected.values()),
        erased=len(r.feed.erased),
        lost=lost,
        doubled=doubled,
        duplicate_tasks=dup_tasks,
        profiles_differ=sum(
            1
            for c in set(clean.profiles) | set(hit.profiles)
            if clean.profiles.get(c) != hit.profiles.get(c)
        ),
        scores_differ=differ,
        score_columns=cols,
        model_versions=(dict(clean.model_versions), dict(hit.model_versions)),
        tasks_missing=len(clean_ids - hit_ids),
        tasks_extra=len(hit_ids - clean_ids),
        actions_missing=len(set(clean.actions) - set(hit.actions)),
        actions_extra=len(set(hit.actions) - set(clean.actions)),
        action_dup_ids=sum(1 for n in by_action.values() if n > 1),
        action_republished=sum(n - 1 for n in hit.action_msgs.values() if n > 1),
        deliveries_differ=len(set(clean.deliveries.items()) ^ set(hit.deliveries.items())),
        receiver_missing=len(set(clean.received_ok) - set(hit.received_ok)),
        receiver_twice=sum(1 for n in hit.received_ok.values() if n > 1),
        lag_clean=clean.lag,
        lag_faults=hit.lag,
        unplanned_exits=dict(r.sup.unplanned),
        seconds=(clean_run.seconds, r.seconds),
        feed={
            "http_posts": r.feed.http_posts,
            "http_retries": r.feed.http_retries,
            "http_status": dict(r.feed.http_status),
            "raw_retries": r.feed.raw_retries,
            "acknowledged": dict(r.feed.acknowledged),
            "fired": [(n, f, round(s, 1)) for n, f, s in r.feed.fired],
            "drain_s": (round(clean_run.drain_seconds, 1), round(r.drain_seconds, 1)),
        },
    )


def table(c: Comparison) -> str:
    """The summary table the issue asks for, then the equalities."""
    rows = [
        ("faults injected", f"{len(c.faults)}: {', '.join(c.faults)}"),
        ("events accepted", f"{c.accepted:,}"),
        ("customers erased (not counted)", f"{c.erased:,}"),
        ("events lost", f"{c.lost:,}"),
        ("events doubled", f"{c.doubled:,}"),
        ("duplicate tasks", f"{c.duplicate_tasks:,}"),
        ("profiles differing from clean", f"{c.profiles_differ:,}"),
        ("latest scores differing", f"{c.scores_differ:,} {dict(c.score_columns)}"),
        ("model versions clean / faults", f"{c.model_versions[0]} / {c.model_versions[1]}"),
        ("tasks missing / extra", f"{c.tasks_missing} / {c.tasks_extra}"),
        ("actions missing / extra", f"{c.actions_missing} / {c.actions_extra}"),
        ("action id under 2 msg ids", f"{c.action_dup_ids}"),
        ("actions re-published (same msg)", f"{c.action_republished}"),
        ("webhook rows differing", f"{c.deliveries_differ}"),
        ("receiver: missing / 2xx twice", f"{c.receiver_missing} / {c.receiver_twice}"),
        ("lag at end clean / faults", f"{c.lag_clean} / {c.lag_faults}"),
        ("unplanned exits (restarted)", f"{c.unplanned_exits}"),
        ("seconds clean / faults", f"{c.seconds[0]:.0f} / {c.seconds[1]:.0f}"),
        ("feed", f"{c.feed}"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


async def _both(cfg: FaultConfig, workdir: Path, faults: bool) -> Comparison:
    days = history(cfg)
    cluster = Cluster(workdir / "infra")
    await asyncio.to_thread(cluster.start)
    try:
        clean_run = await run(cfg, cluster, workdir, "clean", days, faults=False)
        clean = await final(clean_run, await _lag(clean_run))
        hit_run = await run(cfg, cluster, workdir, "faults", days, faults=faults)
        hit = await final(hit_run, await _lag(hit_run))
    finally:
        await asyncio.to_thread(cluster.stop)
    return compare(clean, hit, hit_run, clean_run)


async def _lag(r: Run) -> dict[str, int]:
    from bench.faults_check import lags

    return await lags(r)


def config_for(events: int, *, seed: int = 12) -> FaultConfig:
    """A history of about ``events`` events (the simulator makes ~1.96 per customer and day).

    >>> cfg = config_for(200_000); (cfg.customers, cfg.days)
    (2551, 40)
    """
    days = 40 if events >= 100_000 else 20
    return FaultConfig(customers=round(events / (1.96 * days)), days=days, seed=seed)


def compare_runs(
    cfg: FaultConfig, workdir: Path | None = None, *, faults: bool = True
) -> Comparison:
    """Both runs on a broker and PostgreSQL of their own (under ``workdir`` or a temp dir).
    ``faults=False`` runs the clean run twice: the baseline of what differs without faults."""
    if workdir is not None:
        return asyncio.run(_both(cfg, workdir, faults))
    with tempfile.TemporaryDirectory(prefix="cw-faults-") as scratch:
        return asyncio.run(_both(cfg, Path(scratch), faults))
