"""`AlertsProcessor`: the worker's processor on ``cw.scores``.

Per batch, in the worker's transaction: decode the scores, load their customers (four
statements) and the task teams' agents (`load_roster`, which locks the teams' round-robin
cursors), `plan_batch` (pure), write the plan and the moved cursors and put the actions in the
outbox. The worker
stores the offsets in the same transaction, so state and offsets move together
(effectively-once); the deterministic action ids make any repetition harmless.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from churnwatch.alerts import Playbook
from churnwatch.messages import MessageRejected, decode_score
from churnwatch_alerts.assign import ASSIGN_POLICIES, task_teams
from churnwatch_alerts.metrics import AlertsMetrics
from churnwatch_alerts.plan import PlanConfig, ScoreIn, history_horizon, plan_batch
from churnwatch_alerts.playbooks import load_playbooks
from churnwatch_alerts.store import load_roster, load_states, save_cursors, write_plan
from churnwatch_runtime.db import raw_connection
from churnwatch_runtime.worker import MSG_ID_HEADER, Batch, Record, outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    group_id: str = "alerts"
    plan: PlanConfig = field(default_factory=PlanConfig)
    playbook_poll_s: float = 10.0
    """How often the enabled playbooks are read again (edits apply without a restart)."""


def parse_score(record: Record) -> ScoreIn | None:
    """A ``cw.scores`` record, or None if it is not one (`decode_score` rejected it; logged and
    counted by the caller, never raised: a poison record must not stop the partition)."""
    try:
        message = decode_score(record.value)
    except MessageRejected as exc:
        log.debug("rejected score: %s", exc)
        return None
    ids = [bytes(v).decode() for k, v in (record.headers or ()) if k == MSG_ID_HEADER]
    if ids:
        return ScoreIn(ids[0], message)
    cause = message.cause_event_id or message.event_time.isoformat()
    return ScoreIn(f"score:{message.customer_id}:{cause}", message)


class AlertsProcessor:
    """Scores → tasks, actions, exposures, suppressions (docs/alerts.md)."""

    def __init__(self, config: AlertsConfig, metrics: AlertsMetrics | None = None) -> None:
        self.config = config
        self.metrics = metrics or AlertsMetrics()
        self.playbooks: dict[str, Playbook] = {}
        self._loaded_at = float("-inf")

    async def _refresh(self, conn: AsyncConnection) -> None:
        if time.monotonic() - self._loaded_at >= self.config.playbook_poll_s:
            self.playbooks = await load_playbooks(conn)
            self._loaded_at = time.monotonic()
            for pb in self.playbooks.values():
                policy = pb.action.params.get("assign")
                if policy is not None and policy not in ASSIGN_POLICIES:
                    log.warning(
                        "unknown assignment policy, using the default",
                        extra={"playbook": pb.id, "assign": policy},
                    )

    async def process(self, conn: AsyncConnection, batch: Batch) -> None:
        started = time.perf_counter()
        await self._refresh(conn)
        scores = []
        for record in batch:
            score = parse_score(record)
            if score is None:
                self.metrics.rejected.inc()
                log.warning(
                    "unreadable score skipped",
                    extra={"partition": record.partition, "offset": record.offset},
                )
                continue
            scores.append(score)
        if not scores:
            return
        pg = await raw_connection(conn)
        since = min(s.event_time for s in scores) - history_horizon(
            self.playbooks, self.config.plan.policy
        )
        states = await load_states(pg, [s.customer_id for s in scores], since)
        roster = await load_roster(pg, task_teams(self.playbooks.values()))
        plan = plan_batch(scores, states, self.playbooks, self.config.plan, roster)
        await write_plan(pg, plan)
        if roster is not None:
            await save_cursors(pg, roster)
        await outbox.add_many(conn, plan.actions)
        self.metrics.record(len(scores), plan)
        self.metrics.batch_seconds.observe(time.perf_counter() - started)
