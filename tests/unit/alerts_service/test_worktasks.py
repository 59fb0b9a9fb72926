"""Pure parts of working tasks: the expiry rule per playbook, the task view, the settings, the
expiry job's loop, the CLI's actor and refusals that need no database."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from churnwatch.alerts import InvalidTransition, TaskState, default_playbooks, transition
from churnwatch_alerts import AlertsSettings, ExpiryConfig, expire_after
from churnwatch_alerts import cli as alerts_cli
from churnwatch_alerts import worktasks as wt
from churnwatch_alerts.expiry import _rules

T0 = datetime(2026, 3, 10, 9, tzinfo=UTC)
DEFAULT = timedelta(days=30)


def playbook_yaml(pid: str, **params: Any) -> str:
    return yaml.safe_dump({
        "id": pid, "version": 1, "name": pid,
        "trigger": {"type": "band_entered", "bands": ["high"]},
        "action": {"type": "save_call", "team": "save", "params": params},
    })  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [(48, timedelta(hours=48)), (0.5, timedelta(minutes=30)), (0, DEFAULT), (-3, DEFAULT),
     (True, DEFAULT), ("48", DEFAULT)],
)  # fmt: skip
def test_expire_after_reads_a_positive_number_of_hours(value: Any, expected: timedelta) -> None:
    vip = default_playbooks()[0]
    action = vip.action.model_copy(update={"params": {"expire_after_hours": value}})
    assert expire_after(vip.model_copy(update={"action": action}), DEFAULT) == expected


def test_rules_keep_only_playbooks_that_differ_and_skip_unreadable_rows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows = [
        ("quick", 2, playbook_yaml("quick", expire_after_hours=6)),
        ("plain", 1, playbook_yaml("plain")),
        ("broken", 1, "id: broken\nversion: [oops"),
        ("bad", 1, playbook_yaml("bad", expire_after_hours=6).replace("save_call", "nope")),
    ]
    caplog.set_level(logging.WARNING, logger="churnwatch_alerts.expiry")
    assert _rules(rows, DEFAULT) == {("quick", 2): 6 * 3600.0}
    assert [r.playbook for r in caplog.records] == ["broken", "bad"]  # type: ignore[attr-defined]


def view(**kw: Any) -> wt.TaskView:
    row: dict[str, Any] = {
        "task_id": "T-1", "customer_id": "C-1", "playbook_id": "pb", "playbook_version": 1,
        "action_type": "save_call", "state": "assigned", "priority": 2.0, "value_at_risk": 9.0,
        "churn_probability": 0.7, "tier": "gold", "team": "save", "assignee": "ann",
        "sla_due_at": T0 + timedelta(hours=8), "created_at": T0, "first_contact_at": None,
        "closed_at": None, "outcome": None, "reasons": '[{"text": "NPS 3"}]',
        "talking_points": b'["hello"]',
    }  # fmt: skip
    row.update(kw)
    return wt.task_view(row)


def test_task_view_decodes_json_and_feeds_the_domain_transition() -> None:
    v = view()
    assert (v.state, v.reasons, v.talking_points) == (TaskState.ASSIGNED, [{"text": "NPS 3"}],
                                                      ["hello"])  # fmt: skip
    task, row = transition(v.domain(), TaskState.IN_PROGRESS, at=T0 + timedelta(hours=9),
                           actor="ann")  # fmt: skip
    assert (task.first_contact_at, row.from_state, row.assignee) == (
        T0 + timedelta(hours=9), TaskState.ASSIGNED, "ann",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("contact", "in_sla"), [(None, None), (timedelta(hours=8), True), (timedelta(hours=9), False)]
)
def test_in_sla_compares_first_contact_with_the_due_time(
    contact: timedelta | None, in_sla: bool | None
) -> None:
    assert view(first_contact_at=None if contact is None else T0 + contact).in_sla is in_sla


def test_wall_clock_needs_a_timezone() -> None:
    assert wt.wall_clock(T0) == T0
    assert wt.wall_clock(None).tzinfo is not None
    with pytest.raises(ValueError, match="timezone"):
        wt.wall_clock(datetime(2026, 3, 10))


async def test_close_refuses_a_service_outcome_before_touching_the_database() -> None:
    nowhere = cast(AsyncEngine, object())
    with pytest.raises(InvalidTransition, match="'recovered' is not an outcome"):
        await wt.close(nowhere, "T-1", "recovered", actor="ann")


def test_settings_build_the_expiry_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CW_ALERTS_TASK_EXPIRE_AFTER_HOURS", "48")
    monkeypatch.setenv("CW_ALERTS_TASK_EXPIRY_CLOCK", "wall")
    monkeypatch.setenv("CW_ALERTS_UPLIFT_WATERMARK_GROUP", "")
    cfg = AlertsSettings().expiry_config()
    assert (cfg.expire_after, cfg.clock, cfg.watermark_group) == (timedelta(hours=48), "wall", None)
    assert ExpiryConfig().expire_after == timedelta(days=30)
    assert AlertsSettings.model_fields["task_expiry"].default is True
    monkeypatch.setenv("CW_ALERTS_TASK_EXPIRY_CLOCK", "sundial")
    with pytest.raises(ValueError, match="task_expiry_clock"):
        AlertsSettings()


def test_cli_actor_is_the_option_then_the_environment_then_the_login(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CW_ACTOR", "lead")
    assert (alerts_cli._actor("ann"), alerts_cli._actor(None)) == ("ann", "lead")
    monkeypatch.delenv("CW_ACTOR")
    monkeypatch.setattr("getpass.getuser", lambda: "login")
    assert alerts_cli._actor(None) == "login"
