"""Alerts domain: playbooks, evaluation, guardrails, holdouts, tasks and uplift (pure code).

The alerts service turns each ``cw.scores`` record into `Facts`, `evaluate`s the playbooks,
passes every `Match` through `decide` (guardrails, then the holdout arm), creates tasks
(`due_at`, `assign_by_tier`, `transition`) and actions (`Match.to_action`, whose
deterministic `action_id` makes retries harmless), and measures every playbook with
`uplift_reports`. docs/playbooks.md documents the playbook format and the statistics.

>>> from datetime import UTC, datetime
>>> score = {"customer_id": "C-7", "churn_probability": 0.7, "band": "critical",
...          "clv": 900.0, "tier": "platinum", "value_at_risk": 630.0,
...          "event_time": "2026-03-03T00:00:00Z"}
>>> playbooks = {pb.id: pb for pb in default_playbooks()}
>>> [match] = evaluate(playbooks.values(), facts_from_score(score))
>>> decision = decide(match, playbooks[match.playbook_id], ContactHistory(consent={"phone": True}),
...                   now=datetime(2026, 3, 3, tzinfo=UTC))
>>> match.action.type, decision.outcome in ("act", "control")
('save_call', True)
"""

from ._condition import MAX_DEPTH, MAX_NODES, OPS, Condition, holds
from ._errors import InvalidTransition, Issue, PlaybookError
from ._evaluate import Match, evaluate, queue_key, trigger_key
from ._facts import (
    BANDS,
    BUSINESS_MODELS,
    FIELDS,
    RFM_SEGMENTS,
    STAGES,
    TIERS,
    Facts,
    FieldSpec,
    facts_from_score,
)
from ._guardrails import REASONS, ContactHistory, ContactPolicy, Decision, ReasonCode, decide
from ._holdout import action_id, holdout_draw, in_holdout
from ._playbook import (
    ACTION_TYPES,
    CHANNELS,
    DEFAULT_CHANNEL,
    DEFAULT_MODE,
    TRIGGER_TYPES,
    ActionSpec,
    Playbook,
    PriorityRule,
    Trigger,
    default_playbooks,
    parse_duration,
    parse_playbooks,
)
from ._tasks import (
    DEFAULT_SLA_HOURS,
    FINAL_STATES,
    TRANSITIONS,
    Agent,
    AuditRow,
    Task,
    TaskState,
    assign_by_tier,
    assign_round_robin,
    due_at,
    transition,
)
from ._uplift import (
    Exposure,
    Interval,
    Rate,
    UpliftReport,
    newcombe_interval,
    raw_save_rate,
    sla_attainment,
    uplift_reports,
    wilson_interval,
)

__all__ = [
    "ACTION_TYPES",
    "BANDS",
    "BUSINESS_MODELS",
    "CHANNELS",
    "DEFAULT_CHANNEL",
    "DEFAULT_MODE",
    "DEFAULT_SLA_HOURS",
    "FIELDS",
    "FINAL_STATES",
    "MAX_DEPTH",
    "MAX_NODES",
    "OPS",
    "REASONS",
    "RFM_SEGMENTS",
    "STAGES",
    "TIERS",
    "TRANSITIONS",
    "TRIGGER_TYPES",
    "ActionSpec",
    "Agent",
    "AuditRow",
    "Condition",
    "ContactHistory",
    "ContactPolicy",
    "Decision",
    "Exposure",
    "Facts",
    "FieldSpec",
    "Interval",
    "InvalidTransition",
    "Issue",
    "Match",
    "Playbook",
    "PlaybookError",
    "PriorityRule",
    "Rate",
    "ReasonCode",
    "Task",
    "TaskState",
    "Trigger",
    "UpliftReport",
    "action_id",
    "assign_by_tier",
    "assign_round_robin",
    "decide",
    "default_playbooks",
    "due_at",
    "evaluate",
    "facts_from_score",
    "holdout_draw",
    "holds",
    "in_holdout",
    "newcombe_interval",
    "parse_duration",
    "parse_playbooks",
    "queue_key",
    "raw_save_rate",
    "sla_attainment",
    "transition",
    "trigger_key",
    "uplift_reports",
    "wilson_interval",
]
