"""The cw.scores and cw.actions contracts: wire format, round trips, schema, rejections."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

import orjson
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

import churnwatch.messages as messages
from churnwatch.alerts import ACTION_TYPES, Facts, default_playbooks, evaluate, facts_from_score
from churnwatch.errors import ChurnError
from churnwatch.events import EXAMPLES, EventType, parse_event
from churnwatch.messages import (
    ActionMessage,
    MessageRejected,
    ScoreMessage,
    decode_action,
    decode_score,
    encode_action,
    encode_score,
    topic_json_schema,
    trusted,
)
from churnwatch.model import ModelState
from churnwatch.profile import CustomerProfile, Reason, apply
from churnwatch_scoring.population import Population
from churnwatch_scoring.scoring import Entry, ScoreOptions, finish, score_customer
from churnwatch_scoring.valuation import ClvParams
from churnwatch_sim.actions import ActionType as SimActionType

AT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
FIELDS: dict[str, Any] = {
    "customer_id": "C-1", "churn_probability": 0.42, "band": "high",
    "reasons": (Reason("nps_score", 0.5, "NPS 2"), Reason("tenure_days", 0.25, "new")),
    "clv": 120.0, "clv_low": 100.0, "clv_high": 150.0, "value_if_retained": 200.0, "tier": "gold",
    "lifecycle_stage": "at_risk", "rfm_segment": "at_risk", "value_at_risk": 50.4,
    "business_model": "retail", "model_version": "prior-v1", "event_time": AT, "cause": "event",
    "cause_event_id": "e-9",
    "clv_params_id": 3,
    "cuts_version": 12,
}  # fmt: skip


CAUSES: list[tuple[str, Literal["event", "silence"], str | None]] = [
    ("C-1", "event", "e-1"),
    ("C-2", "silence", None),
]


def produced_scores() -> list[ScoreMessage]:
    """Messages as the scoring producer makes them (a real profile through `finish`)."""
    profile = CustomerProfile()
    for kind in (EventType.PURCHASE, EventType.COMPLAINT, EventType.PAYMENT_FAILED):
        apply(profile, parse_event(EXAMPLES[kind], now=AT))
    opts = ScoreOptions()
    scored = [
        score_customer(c, 0, Entry(profile, None, None, None), AT + timedelta(days=i),
                       ModelState().serving(), opts, cause=cause, cause_event_id=event)
        for i, (c, cause, event) in enumerate(CAUSES)
    ]  # fmt: skip
    return list(finish(scored, ClvParams.default(), Population(), opts).records)


def test_the_wire_format_is_the_one_scoring_always_published() -> None:
    """Same keys, same order, times with Z, reasons as feature/text/weight, no version key."""
    old = {
        **{k: v for k, v in FIELDS.items() if k != "reasons"},
        "reasons": [{"feature": r.feature, "text": r.text, "weight": r.weight}
                    for r in FIELDS["reasons"]],
    }  # fmt: skip
    old = {k: old[k] for k in messages.SCORE_FIELDS}
    expected = orjson.dumps(old, option=orjson.OPT_UTC_Z)
    assert encode_score(ScoreMessage(**FIELDS)) == expected
    assert b'"event_time":"2026-03-02T10:30:00Z"' in expected


def test_a_score_survives_the_round_trip_and_trusted_equals_validated() -> None:
    validated = ScoreMessage(**FIELDS)
    fast = trusted(ScoreMessage, {"schema_version": 1, **FIELDS})
    assert fast == validated
    assert decode_score(encode_score(fast)) == validated
    assert decode_score(orjson.loads(encode_score(fast))) == validated
    with pytest.raises(TypeError, match="missing \\['band'\\]"):
        trusted(
            ScoreMessage, {"schema_version": 1, **{k: v for k, v in FIELDS.items() if k != "band"}}
        )


def test_an_action_survives_the_round_trip() -> None:
    action = ActionMessage(action_id="A-1", customer_id="C-1", action_type="offer",
                           issued_at=AT, params={"discount_pct": 20})  # fmt: skip
    body = encode_action(action)
    assert orjson.loads(body)["issued_at"] == "2026-03-02T10:30:00Z"
    assert decode_action(body) == action


@pytest.mark.parametrize("topic", messages.TOPICS)
def test_every_topic_has_a_valid_json_schema(topic: str) -> None:
    Draft202012Validator.check_schema(topic_json_schema(topic))


def test_the_schemas_accept_what_the_producers_write() -> None:
    scores = Draft202012Validator(topic_json_schema("cw.scores"))
    actions = Draft202012Validator(topic_json_schema("cw.actions"))
    playbooks = default_playbooks()
    seen_actions = 0
    for record in produced_scores():
        doc = orjson.loads(encode_score(record))
        assert list(scores.iter_errors(doc)) == []
        assert "partition" not in doc
        facts = facts_from_score(decode_score(encode_score(record)))
        for match in evaluate(playbooks, facts.model_copy(update={"band": "critical"})):
            body = encode_action(match.action_message(facts.event_time, priority=1.0))
            assert list(actions.iter_errors(orjson.loads(body))) == []
            seen_actions += 1
    assert seen_actions > 0


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        (b"{nope", "", "invalid JSON"),
        (b"[1, 2]", "", "object"),
        (None, "", "not a message"),
        ({**FIELDS, "band": "hot"}, "band", "Input should be"),
        ({**FIELDS, "churn_probability": 1.5}, "churn_probability", "less than or equal"),
        ({**FIELDS, "event_time": "2026-03-02T10:30:00"}, "event_time", "UTC offset"),
        ({**FIELDS, "schema_version": 2}, "schema_version", "Input should be 1"),
        ({"customer_id": "C-1"}, "tier", "Field required"),
    ],
)
def test_a_bad_score_is_rejected_naming_the_field(raw: Any, field: str, message: str) -> None:
    if isinstance(raw, dict):
        raw = orjson.dumps(raw)
    with pytest.raises(MessageRejected) as info:
        decode_score(raw)
    assert isinstance(info.value, ChurnError)
    assert info.value.topic == "cw.scores"
    assert any(e["field"] == field and message in e["message"] for e in info.value.errors)


def test_a_bad_action_lists_every_problem() -> None:
    with pytest.raises(MessageRejected) as info:
        decode_action({"action_id": "", "action_type": "hug", "issued_at": "2026-03-02T10:00"})
    assert {e["field"] for e in info.value.errors} == {
        "action_id", "customer_id", "action_type", "issued_at",
    }  # fmt: skip


def test_unknown_fields_are_ignored_and_missing_optional_ones_defaulted() -> None:
    doc = {k: v for k, v in orjson.loads(encode_score(ScoreMessage(**FIELDS))).items()
           if k not in ("value_if_retained", "rfm_segment")}  # fmt: skip
    message = decode_score({**doc, "added_in_a_later_version": 1})
    assert (message.value_if_retained, message.rfm_segment, message.schema_version) == (
        None,
        None,
        1,
    )


def test_facts_from_a_message_equal_the_validated_facts() -> None:
    """The consumer's fast path (no second validation) builds the facts validation would."""
    message = ScoreMessage(**FIELDS)
    profile = CustomerProfile(purchases=2, tx_count=2, first_tx=1772323200, last_tx=1772323200)
    fast = facts_from_score(message, profile, previous_band="medium")
    data = {k: v for k, v in message.model_dump().items() if k in Facts.model_fields}
    data |= {"reasons": ("NPS 2", "new"), "previous_band": "medium"}
    slow = Facts.model_validate(data)
    assert fast == slow.model_copy(update=fast.model_dump(include={
        "unresolved_complaints", "unresolved_complaint_age_hours", "complaint_escalated",
        "consecutive_failed_payments", "purchase_count", "days_since_first_purchase",
        "days_since_last_purchase", "days_since_last_activity", "oldest_open_complaint_at",
        "first_failed_payment_at", "first_purchase_at", "last_activity_at",
    }))  # fmt: skip
    assert fast.purchase_count == 2
    assert Facts.model_validate(fast.model_dump()) == fast
    with pytest.raises(ValueError, match="previous_band"):
        facts_from_score(message, previous_band="hot")


def test_one_action_type_everywhere() -> None:
    assert ACTION_TYPES == messages.ACTION_TYPES == get_args(messages.ActionType)
    assert SimActionType is messages.ActionType


def test_all_is_complete() -> None:
    names = vars(messages).items()
    public = {n for n, v in names if not n.startswith("_") and not inspect.ismodule(v)}
    assert set(messages.__all__) == public


def test_every_required_fact_comes_from_the_score() -> None:
    """`facts_from_score` assembles `Facts` unvalidated: nothing required may be left unset."""
    required = {name for name, f in Facts.model_fields.items() if f.is_required()}
    assert required <= set(ScoreMessage.model_fields)
