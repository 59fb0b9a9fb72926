"""Prometheus metrics of the alerts service, in a registry of their own (one per app, so tests
can build several in one process); ``/metrics`` renders it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from churnwatch_alerts.plan import Plan

_BATCH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class AlertsMetrics:
    """Scores, actions, suppressions, control exposures, auto-closes, webhook deliveries."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry or CollectorRegistry()
        self.scores = Counter("cw_alerts_scores", "Scores consumed", registry=r)
        self.skipped = Counter(
            "cw_alerts_scores_skipped", "Scores seen before (re-published) or out of date",
            registry=r,
        )  # fmt: skip
        self.rejected = Counter(
            "cw_alerts_scores_rejected", "Records on cw.scores that could not be read", registry=r
        )
        self.actions = Counter(
            "cw_alerts_actions", "Treated actions", ["playbook", "type"], registry=r
        )
        self.suppressions = Counter(
            "cw_alerts_suppressions", "Suppressed matches", ["reason"], registry=r
        )
        self.controls = Counter(
            "cw_alerts_control_exposures", "Held-out (control) exposures", ["playbook"],
            registry=r,
        )  # fmt: skip
        self.closed = Counter(
            "cw_alerts_tasks_auto_closed", "Tasks closed by the service", ["outcome"], registry=r
        )
        self.assigned = Counter(
            "cw_alerts_tasks_assigned", "New tasks assigned to an agent", ["team"], registry=r
        )
        self.unassigned = Counter(
            "cw_alerts_tasks_unassigned", "New tasks left open: no active agent with room",
            ["team"], registry=r,
        )  # fmt: skip
        self.deliveries = Counter(
            "cw_alerts_webhook_deliveries", "Webhook attempts", ["result"], registry=r
        )
        self.batch_seconds = Histogram(
            "cw_alerts_batch_seconds", "Processing time of a batch (before commit)",
            buckets=_BATCH_BUCKETS, registry=r,
        )  # fmt: skip

    def record(self, scores: int, plan: Plan) -> None:
        """Count what a processed batch did."""
        self.scores.inc(scores)
        self.skipped.inc(plan.skipped)
        for (playbook, kind), n in plan.acted.items():
            self.actions.labels(playbook, kind).inc(n)
        for reason, n in plan.suppressed.items():
            self.suppressions.labels(reason).inc(n)
        for playbook, n in plan.controls.items():
            self.controls.labels(playbook).inc(n)
        for outcome, n in plan.closed.items():
            self.closed.labels(outcome).inc(n)
        for team, n in plan.assigned.items():
            self.assigned.labels(team).inc(n)
        for team, n in plan.unassigned.items():
            self.unassigned.labels(team).inc(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)
