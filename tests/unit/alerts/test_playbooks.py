"""Playbook parsing: the defaults load, and every kind of bad playbook is rejected precisely."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
import yaml

from churnwatch.alerts import (
    ACTION_TYPES,
    Playbook,
    PlaybookError,
    default_playbooks,
    parse_duration,
    parse_playbooks,
)
from churnwatch.errors import ConfigError


def valid() -> dict[str, Any]:
    return {
        "id": "vip",
        "version": 1,
        "name": "VIP save call",
        "trigger": {"type": "band_entered", "bands": ["high", "critical"]},
        "condition": {
            "all": [
                {"field": "tier", "op": "in", "value": ["platinum", "gold"]},
                {"field": "churn_probability", "op": "ge", "value": 0.3},
            ]
        },
        "action": {"type": "save_call", "team": "save-team", "sla_hours": {"platinum": 4}},
    }


def doc(*playbooks: dict[str, Any]) -> str:
    return yaml.safe_dump({"playbooks": list(playbooks)})


def rejected(text: str) -> PlaybookError:
    with pytest.raises(PlaybookError) as info:
        parse_playbooks(text)
    return info.value


def test_the_six_defaults_load_and_cover_every_action_type():
    playbooks = default_playbooks()
    assert len(playbooks) == 6
    assert {pb.action.type for pb in playbooks} == set(ACTION_TYPES)
    assert all(pb.enabled and pb.holdout == 0.1 for pb in playbooks)
    tasks = [pb for pb in playbooks if pb.action.mode == "task"]
    assert {pb.action.type for pb in tasks} == {"save_call", "service_recovery"}
    assert all(pb.action.team for pb in tasks)


def test_a_valid_playbook_gets_its_defaults():
    (pb,) = parse_playbooks(doc(valid()))
    assert (pb.action.mode, pb.action.channel) == ("task", "phone")
    assert (pb.holdout, pb.cooldown, pb.priority.by) == (0.1, timedelta(days=30), "value_at_risk")
    assert pb.condition is not None
    assert pb.condition.kind == "all"


def test_a_bare_list_is_accepted_and_the_error_is_a_config_error():
    assert parse_playbooks(yaml.safe_dump([valid()]))[0].id == "vip"
    assert isinstance(rejected("playbooks: 3"), ConfigError)


def _set(path: str, value: Any) -> dict[str, Any]:
    data = valid()
    node: Any = data
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return data


_DELETE = object()
BAD = [
    ("condition.all.0.field", "tierr", "playbooks[0].condition.all[0].field",
     "unknown field 'tierr' (did you mean 'tier'?)"),
    ("condition.all.0.value", ["platnum"], "playbooks[0].condition.all[0].value",
     "(did you mean 'platinum'?)"),
    ("condition.all.1.value", "high", "playbooks[0].condition.all[1].value",
     "'churn_probability' is a number"),
    ("condition.all.1.op", "between", "playbooks[0].condition.all[1].op", "Input should be"),
    ("condition.all.0.op", "eq", "playbooks[0].condition.all[0].value", "takes a single value"),
    ("condition.all.1.op", "in", "playbooks[0].condition.all[1].value", "non-empty list"),
    ("condition.all.0", {"field": "rfm_segment", "op": "gt", "value": "lost"},
     "playbooks[0].condition.all[0].value", "needs a number or an ordered field"),
    ("condition.all.0", {"field": "tier"}, "playbooks[0].condition.all[0]", "missing"),
    ("condition.all.0", {"field": "tier", "op": "eq", "value": "gold", "any": []},
     "playbooks[0].condition.all[0]", "exactly one of"),
    ("condition.all", [], "playbooks[0].condition", "at least one condition"),
    ("condition.all.0.valeu", 1, "playbooks[0].condition.all[0].valeu", "unknown key"),
    ("holdout", 0.6, "playbooks[0].holdout", "less than or equal to 0.5"),
    ("holdout", -0.1, "playbooks[0].holdout", "greater than or equal to 0"),
    ("version", "one", "playbooks[0].version", "valid integer"),
    ("id", "Bad Id", "playbooks[0].id", "should match pattern"),
    ("cooldown", "soon", "playbooks[0].cooldown", "expected a duration"),
    ("trigger.type", "complaint_unresolved_for", "playbooks[0].trigger.bands",
     "not a parameter of trigger 'complaint_unresolved_for'"),
    ("trigger.bands", _DELETE, "playbooks[0].trigger.bands", "required by trigger"),
    ("trigger.type", "birthday", "playbooks[0].trigger.type", "Input should be"),
    ("action.team", _DELETE, "playbooks[0].action.team", "a task needs the team"),
    ("action.discount_pct", 20, "playbooks[0].action.discount_pct", "only an offer"),
    ("action.type", "hug", "playbooks[0].action.type", "Input should be"),
    ("action.sla_hours", {"diamond": 1}, "playbooks[0].action.sla_hours.diamond", "Input should"),
]  # fmt: skip


@pytest.mark.parametrize(("where", "value", "path", "message"), BAD, ids=[b[2] for b in BAD])
def test_a_bad_playbook_is_rejected_with_its_path(where, value, path, message):
    error = rejected(doc(_set(where, value)))
    assert any(issue.path == path and message in issue.message for issue in error.issues), (
        error.issues
    )
    assert path in str(error)


def test_the_error_names_the_failing_playbook_by_position():
    bad = _set("condition.all.0.field", "tierr")
    other = copy.deepcopy(bad) | {"id": "other"}
    error = rejected(doc(valid() | {"id": "a"}, valid() | {"id": "b"}, bad, other))
    assert str(error.issues[0]) == (
        "playbooks[2].condition.all[0].field: unknown field 'tierr' (did you mean 'tier'?)"
    )
    assert [i.path for i in error.issues] == [
        "playbooks[2].condition.all[0].field",
        "playbooks[3].condition.all[0].field",
    ]


def test_two_enabled_playbooks_with_one_id_conflict():
    error = rejected(doc(valid(), valid() | {"version": 2}))
    assert [str(i) for i in error.issues] == [
        "playbooks[1].id: two enabled playbooks with id 'vip' (also playbooks[0])"
    ]


def test_old_versions_may_stay_if_disabled_but_not_twice():
    kept = parse_playbooks(doc(valid() | {"enabled": False}, valid() | {"version": 2}))
    assert [(pb.version, pb.enabled) for pb in kept] == [(1, False), (2, True)]
    error = rejected(doc(valid() | {"enabled": False}, valid()))
    assert error.issues[0].path == "playbooks[1].version"


def test_a_condition_too_deep_is_rejected():
    node: dict[str, Any] = {"field": "band", "op": "eq", "value": "high"}
    for _ in range(7):
        node = {"not": node}
    error = rejected(doc(valid() | {"condition": node}))
    assert error.issues[0].path == "playbooks[0]"
    assert "condition too large" in error.issues[0].message


def test_invalid_yaml_names_the_line():
    error = rejected("playbooks:\n  - id: [unclosed\n")
    assert error.issues[0].path.startswith("line ")
    assert "invalid YAML" in error.issues[0].message


@pytest.mark.parametrize(
    ("text", "seconds"), [("48h", 172_800), ("14d", 1_209_600), ("2w", 1_209_600), (90, 90)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_playbooks_are_frozen():
    pb = default_playbooks()[0]
    assert isinstance(pb, Playbook)
    with pytest.raises(ValueError, match="frozen"):
        pb.holdout = 0.3
