"""What a batch of scores does, as pure code: the rows to write and the messages to send.

`plan_batch` takes the parsed scores and what the store loaded about their customers, runs the
domain (`facts_from_score` → `evaluate` → `decide`, auto-close of open tasks) score by score,
keeping each customer's in-memory state up to date so later scores of the same batch see the
earlier decisions, and returns a `Plan`. The processor only loads and writes; everything that
decides is here and is tested without Kafka or PostgreSQL.

Time is the score's event time throughout (cooldowns, caps, SLA due times, auto-close): a
replay decides exactly as the live run did, and a simulated clock works like a real one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from churnwatch.alerts import (
    BANDS,
    ContactHistory,
    ContactPolicy,
    Facts,
    Match,
    Playbook,
    Task,
    TaskState,
    decide,
    due_at,
    evaluate,
    facts_from_score,
    transition,
)
from churnwatch.messages import ActionMessage, ScoreMessage, encode_action
from churnwatch.profile import CustomerProfile
from churnwatch_alerts.assign import Roster, assign_policy
from churnwatch_alerts.rows import ExposureRow, TaskRow
from churnwatch_alerts.rows import Plan as Plan  # re-exported: the planner's result
from churnwatch_runtime.worker import OutboxMessage

ACTOR = "alerts"
"""The actor of the audit rows the service writes (creation and auto-close)."""


@dataclass(frozen=True, slots=True)
class ScoreIn:
    """One ``cw.scores`` record: its id (the ``cw-msg-id`` header) and its validated message."""

    score_id: str
    message: ScoreMessage

    @property
    def customer_id(self) -> str:
        return self.message.customer_id

    @property
    def event_time(self) -> datetime:
        return self.message.event_time


@dataclass(slots=True)
class OpenTask:
    task_id: str
    playbook_id: str
    state: str
    recover_band: str
    below_since: datetime | None
    assignee: str | None = None


@dataclass(slots=True)
class CustomerState:
    """What the store knows of one customer when the batch starts (mutated while planning)."""

    profile: CustomerProfile | None = None
    band: str | None = None
    event_time: datetime | None = None
    score_id: str | None = None
    open_tasks: dict[str, OpenTask] = field(default_factory=dict)  # by playbook id
    contacts: list[tuple[str, datetime, str]] = field(default_factory=list)  # playbook, at, id
    decided: set[str] = field(default_factory=set)
    """Every action id ever exposed (either arm), however old: an episode (a first purchase
    with no repeat, a failed payment, an open complaint) can outlast the guardrails' horizon, and
    its deterministic action id must still be decided only once."""


@dataclass(frozen=True, slots=True)
class PlanConfig:
    actions_topic: str = "cw.actions"
    salt: str = ""
    policy: ContactPolicy = field(default_factory=ContactPolicy)
    recover_after: timedelta = timedelta(days=7)
    """A task closes as recovered once the band stayed below its threshold this long."""
    recover_band: str = "high"
    """The threshold for playbooks not triggered by a band (below it = recovered)."""
    churn_stages: frozenset[str] = frozenset({"churned", "lapsed"})
    assign: str = "round_robin"
    """Assignment policy of task playbooks without ``params.assign`` (`assign.ASSIGN_POLICIES`)."""


def recover_band(playbook: Playbook, default: str) -> str:
    """The band a task's customer must stay below to count as recovered: the lowest band that
    triggers the playbook, or ``default`` for playbooks not triggered by a band.

    >>> from churnwatch.alerts import default_playbooks
    >>> [recover_band(pb, "high") for pb in default_playbooks()[:3]]
    ['high', 'high', 'high']
    """
    bands = playbook.trigger.bands if playbook.trigger.type == "band_entered" else None
    return min(bands, key=BANDS.index) if bands else default


def is_stale(state: CustomerState, score: ScoreIn) -> bool:
    """A score older than the last one seen, or that very score again (a re-publication)."""
    if state.event_time is None:
        return False
    if score.event_time < state.event_time:
        return True
    return score.event_time == state.event_time and score.score_id == state.score_id


def history(state: CustomerState, *, now: datetime, horizon: timedelta) -> ContactHistory:
    """The guardrails' view of a customer: consent and erasure from the profile, the rest from
    the contact log (both arms) and the open tasks."""
    last: dict[str, datetime] = {}
    times: list[datetime] = []
    for playbook_id, at, _ in state.contacts:
        if at > now - horizon:
            times.append(at)
            if playbook_id not in last or at > last[playbook_id]:
                last[playbook_id] = at
    open_tasks = frozenset(state.open_tasks)
    if state.profile is None:
        return ContactHistory(open_tasks=open_tasks, last_exposure=last, exposures=tuple(times))
    return ContactHistory.from_profile(
        state.profile, open_tasks=open_tasks, last_exposure=last, exposures=tuple(times)
    )


def _sla(match: Match) -> dict[str, float]:
    return {str(tier): hours for tier, hours in (match.action.sla_hours or {}).items()}


def action_body(match: Match, facts: Facts) -> tuple[ActionMessage, bytes]:
    """The ``cw.actions`` message of a treated match and its bytes (also the webhook body):
    issued at the score's event time, with the priority, and for a task its SLA due time."""
    extra: dict[str, Any] = {"priority": match.priority, "value_at_risk": facts.value_at_risk}
    if match.action.mode == "task":
        due = due_at(facts.event_time, facts.tier, _sla(match))
        extra["sla_due_at"] = due.isoformat().replace("+00:00", "Z")
    message = match.action_message(facts.event_time, **extra)
    return message, encode_action(message)


def _close(
    plan: Plan, task: OpenTask, outcome: TaskState, at: datetime, roster: Roster | None
) -> None:
    plan.task_updates[task.task_id] = (outcome.value, at, outcome.value, task.below_since)
    plan.audits.append((task.task_id, task.state, outcome.value, ACTOR, None, at))
    plan.closed[outcome.value] += 1
    if roster is not None and task.assignee is not None:
        roster.release(task.assignee)


def auto_close(
    plan: Plan, state: CustomerState, facts: Facts, cfg: PlanConfig, roster: Roster | None = None
) -> None:
    """Close the customer's open tasks that churned, or recovered (band below the task's
    threshold for ``recover_after``); track when the band went below. A closed task's agent
    gets the room back in ``roster``."""
    for playbook_id, task in list(state.open_tasks.items()):
        at = facts.event_time
        if facts.lifecycle_stage in cfg.churn_stages:
            _close(plan, task, TaskState.CHURNED, at, roster)
        elif BANDS.index(facts.band) < BANDS.index(task.recover_band):
            if task.below_since is None:
                task.below_since = at
                plan.task_updates[task.task_id] = (task.state, None, None, at)
                continue
            if at - task.below_since < cfg.recover_after:
                continue
            _close(plan, task, TaskState.RECOVERED, at, roster)
        else:
            if task.below_since is not None:
                task.below_since = None
                plan.task_updates[task.task_id] = (task.state, None, None, None)
            continue
        del state.open_tasks[playbook_id]


def _act(
    plan: Plan, match: Match, pb: Playbook, facts: Facts, cfg: PlanConfig, roster: Roster | None
) -> Task | None:
    """Write the treated match; for a task playbook, the task (assigned if ``roster`` has
    someone with room) and its audit rows, returned."""
    message, body = action_body(match, facts)
    at = facts.event_time
    key = match.customer_id.encode()
    plan.actions.append(OutboxMessage(cfg.actions_topic, key, body, msg_id=match.action_id))
    plan.deliveries.append((match.action_id, body))
    plan.treatments.append((match.action_id, match.customer_id, match.action.type, at))
    plan.acted[(pb.id, match.action.type)] += 1
    if match.action.mode != "task":
        return None
    params = message.params
    team = match.action.team or ""
    due = due_at(at, facts.tier, _sla(match))
    task = Task(match.action_id, match.customer_id, pb.id, facts.tier, at, due, team=team)
    plan.audits.append((match.action_id, None, TaskState.OPEN.value, ACTOR, None, at))
    if roster is not None:
        agent = roster.pick(team, facts.tier, assign_policy(pb, cfg.assign))
        if agent is None:
            plan.unassigned[team] += 1
        else:
            task, row = transition(task, TaskState.ASSIGNED, at=at, actor=ACTOR, assignee=agent)
            plan.audits.append((row.task_id, row.from_state.value, row.to_state.value, row.actor,
                                row.assignee, row.at))  # fmt: skip
            plan.assigned[team] += 1
    plan.tasks.append(
        TaskRow(
            task_id=match.action_id,
            customer_id=match.customer_id,
            playbook_id=pb.id,
            playbook_version=pb.version,
            action_type=match.action.type,
            state=task.state.value,
            priority=match.priority,
            value_at_risk=facts.value_at_risk,
            churn_probability=facts.churn_probability,
            tier=facts.tier,
            reasons=orjson.dumps(list(facts.reasons)).decode(),
            talking_points=orjson.dumps(params.get("talking_points", [])).decode(),
            team=team,
            sla_due_at=due,
            created_at=at,
            recover_band=recover_band(pb, cfg.recover_band),
            assignee=task.assignee,
        )
    )
    return task


def _one(
    plan: Plan,
    state: CustomerState,
    score: ScoreIn,
    playbooks: Mapping[str, Playbook],
    cfg: PlanConfig,
    horizon: timedelta,
    roster: Roster | None,
) -> None:
    facts = facts_from_score(score.message, state.profile, previous_band=state.band)
    auto_close(plan, state, facts, cfg, roster)
    decided = state.decided
    decided.update(action for _, _, action in state.contacts)
    for match in evaluate(playbooks.values(), facts, salt=cfg.salt):
        if match.action_id in decided:
            continue  # this episode was already decided (either arm)
        pb = playbooks[match.playbook_id]
        now = facts.event_time
        decision = decide(match, pb, history(state, now=now, horizon=horizon), now, cfg.policy)
        if decision.outcome == "suppress":
            assert decision.reason is not None
            plan.suppressions.append(
                (match.action_id, match.customer_id, pb.id, pb.version, decision.reason,
                 decision.message, now)
            )  # fmt: skip
            plan.suppressed[decision.reason] += 1
            continue
        arm = "control" if decision.outcome == "control" else "treated"
        plan.exposures.append(
            ExposureRow(
                action_id=match.action_id,
                customer_id=match.customer_id,
                playbook_id=pb.id,
                playbook_version=pb.version,
                arm=arm,
                trigger_key=match.trigger_key,
                exposed_at=now,
                segment=facts.tier,
                churn_probability=facts.churn_probability,
                clv=facts.clv,
                value_at_risk=facts.value_at_risk,
            )
        )
        plan.contacts.append(
            (match.action_id, match.customer_id, pb.id, arm, match.action.channel or "", now)
        )
        state.contacts.append((pb.id, now, match.action_id))
        decided.add(match.action_id)
        if arm == "control":
            plan.controls[pb.id] += 1
            continue
        task = _act(plan, match, pb, facts, cfg, roster)
        if task is not None:
            band = recover_band(pb, cfg.recover_band)
            state.open_tasks[pb.id] = OpenTask(
                task.task_id, pb.id, task.state.value, band, None, task.assignee
            )


def history_horizon(playbooks: Mapping[str, Playbook], policy: ContactPolicy) -> timedelta:
    """How far back the guardrails look: the longest cooldown or the contact-cap period."""
    return max([policy.period, policy.customer_cooldown, *(p.cooldown for p in playbooks.values())])


def plan_batch(
    scores: Sequence[ScoreIn],
    states: Mapping[str, CustomerState],
    playbooks: Mapping[str, Playbook],
    cfg: PlanConfig,
    roster: Roster | None = None,
) -> Plan:
    """Everything ``scores`` (in consumption order) cause; ``states`` has every customer of the
    batch (empty `CustomerState` for customers never seen) and is updated in place, as is
    ``roster`` (None: no agents, every task stays open)."""
    plan = Plan()
    horizon = history_horizon(playbooks, cfg.policy)
    for score in scores:
        state = states[score.customer_id]
        if is_stale(state, score):
            plan.skipped += 1
            continue
        _one(plan, state, score, playbooks, cfg, horizon, roster)
        state.band = score.message.band
        state.event_time, state.score_id = score.event_time, score.score_id
        plan.customers[score.customer_id] = (state.band, score.event_time, score.score_id)
    return plan
