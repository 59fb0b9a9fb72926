"""Alerts service: scores → playbooks → tasks, actions, exposures, signed webhooks
(docs/alerts.md).

`AlertsProcessor` plugs into the worker base (`churnwatch_runtime.worker`) on ``cw.scores``;
``python -m churnwatch_alerts`` runs it with the outbox relay, the `WebhookDispatcher`, the
`UpliftJob`, the task `ExpiryJob` and the health/metrics app. The decisions themselves are the
pure `plan_batch` over `churnwatch.alerts`. People work the tasks through
``churnwatch_alerts.worktasks`` and keep the agents with ``churnwatch_alerts.agents``
(``churnwatch task …``, ``churnwatch agents …``).
"""

from churnwatch_alerts.assign import ASSIGN_POLICIES, Roster, assign_policy, task_teams
from churnwatch_alerts.expiry import ExpiryConfig, ExpiryJob, ExpiryRun, expire_after, run_expiry
from churnwatch_alerts.metrics import AlertsMetrics
from churnwatch_alerts.plan import (
    CustomerState,
    OpenTask,
    Plan,
    PlanConfig,
    ScoreIn,
    action_body,
    auto_close,
    history,
    is_stale,
    plan_batch,
    recover_band,
)
from churnwatch_alerts.playbooks import default_rows, load_playbooks, seed_defaults
from churnwatch_alerts.processor import AlertsConfig, AlertsProcessor, parse_score
from churnwatch_alerts.settings import AlertsSettings
from churnwatch_alerts.signing import (
    ACTION_ID_HEADER,
    SIGNATURE_HEADER,
    backoff,
    signature,
    signature_header,
    verify,
)
from churnwatch_alerts.uplift import (
    UpliftConfig,
    UpliftJob,
    UpliftRun,
    churned_by,
    churned_from_stage,
    resolvable_at,
    run_once,
)
from churnwatch_alerts.webhooks import Outcome, WebhookConfig, WebhookDispatcher, outcome

__all__ = [
    "ACTION_ID_HEADER",
    "ASSIGN_POLICIES",
    "SIGNATURE_HEADER",
    "AlertsConfig",
    "AlertsMetrics",
    "AlertsProcessor",
    "AlertsSettings",
    "CustomerState",
    "ExpiryConfig",
    "ExpiryJob",
    "ExpiryRun",
    "OpenTask",
    "Outcome",
    "Plan",
    "PlanConfig",
    "Roster",
    "ScoreIn",
    "UpliftConfig",
    "UpliftJob",
    "UpliftRun",
    "WebhookConfig",
    "WebhookDispatcher",
    "action_body",
    "assign_policy",
    "auto_close",
    "backoff",
    "churned_by",
    "churned_from_stage",
    "default_rows",
    "expire_after",
    "history",
    "is_stale",
    "load_playbooks",
    "outcome",
    "parse_score",
    "plan_batch",
    "recover_band",
    "resolvable_at",
    "run_expiry",
    "run_once",
    "seed_defaults",
    "signature",
    "signature_header",
    "task_teams",
    "verify",
]
