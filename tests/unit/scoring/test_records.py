"""Pure helpers of the scoring worker: coalescing, history rule, message, value, population."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

import churnwatch_scoring
from churnwatch.events import EXAMPLES, EventType, parse_event
from churnwatch.model import ModelState
from churnwatch.profile import CustomerProfile, Reason, RfmValues, apply
from churnwatch.value import RetailSummary
from churnwatch_scoring.population import Population
from churnwatch_scoring.records import (
    ScoreRecord,
    history_why,
    last_per_key,
    score_message,
    score_msg_id,
    trace_headers,
)
from churnwatch_scoring.scoring import Entry, ScoreOptions, finish, score_customer
from churnwatch_scoring.valuation import (
    ClvParams,
    ValueSettings,
    retail_values,
    subscription_retained,
    subscription_value,
)

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def record(**overrides: object) -> ScoreRecord:
    base: dict[str, object] = dict(
        customer_id="C-1", partition=2, churn_probability=0.4, band="high",
        reasons=(Reason("complaints_unresolved", 1.5, "3 unresolved complaints"),), clv=200.0,
        clv_low=150.0, clv_high=260.0, tier="gold", lifecycle_stage="at_risk",
        rfm_segment="at risk", value_at_risk=80.0, business_model="retail",
        model_version="prior-v1", event_time=NOW, cause="event", cause_event_id="e-7",
        value_if_retained=320.0,
    )  # fmt: skip
    base.update(overrides)
    return ScoreRecord(**base)


def test_exports_are_complete() -> None:
    assert sorted(churnwatch_scoring.__all__) == churnwatch_scoring.__all__
    for name in churnwatch_scoring.__all__:
        assert getattr(churnwatch_scoring, name) is not None


def test_last_per_key_keeps_the_last_value_in_last_seen_order() -> None:
    stream = [("a", 1), ("b", 2), ("c", 3), ("a", 4), ("b", 5)]
    assert list(last_per_key(stream).items()) == [("c", 3), ("a", 4), ("b", 5)]
    assert last_per_key([]) == {}


@pytest.mark.parametrize(
    ("previous", "p", "band", "expected"),
    [
        (None, 0.05, "low", "first"),
        ((0.10, "low"), 0.16, "medium", "band_change"),
        ((0.20, "medium"), 0.30, "medium", "large_move"),  # exactly the threshold
        ((0.30, "medium"), 0.20, "medium", "large_move"),  # downwards too
        ((0.20, "medium"), 0.29, "medium", None),
    ],
)
def test_history_rule(
    previous: tuple[float, str] | None, p: float, band: str, expected: str | None
) -> None:
    assert history_why(previous, p, band, min_move=0.10) == expected


def test_message_has_every_field_and_a_stable_id() -> None:
    doc = orjson.loads(score_message(record()))
    assert set(doc) == {
        "customer_id", "churn_probability", "band", "reasons", "clv", "clv_low", "clv_high",
        "value_if_retained", "tier", "lifecycle_stage", "rfm_segment", "value_at_risk",
        "business_model", "model_version", "event_time", "cause", "cause_event_id",
        "clv_params_id", "cuts_version",
    }  # fmt: skip
    assert doc["reasons"] == [
        {"feature": "complaints_unresolved", "text": "3 unresolved complaints", "weight": 1.5}
    ]
    assert score_msg_id(record()) == "score:C-1:e-7"
    silent = record(cause="silence", cause_event_id=None)
    assert (
        score_msg_id(silent)
        == score_msg_id(silent)
        != score_msg_id(
            record(cause="silence", cause_event_id=None, event_time=NOW + timedelta(days=1))
        )
    )


def test_trace_headers_are_copied_and_others_dropped() -> None:
    assert trace_headers([("cw-trace-a", b"1"), ("cw-msg-id", b"x")]) == [("cw-trace-a", "1")]


def test_retail_value_grows_with_purchases_and_has_an_interval_once_fitted() -> None:
    settings = ValueSettings()
    few, many = retail_values(
        ClvParams.default(),
        [RetailSummary(1, 30.0, 60.0, 40.0), RetailSummary(8, 58.0, 60.0, 40.0)],
        settings,
    )
    assert 0 < few[0] < many[0]
    assert few[1] is None
    cov4 = [[0.01 if i == j else 0.0 for j in range(4)] for i in range(4)]
    cov3 = [[0.01 if i == j else 0.0 for j in range(3)] for i in range(3)]
    fitted = ClvParams.from_row(
        1, {"r": 0.243, "alpha": 30.9, "a": 0.793, "b": 2.426, "log_cov": cov4},
        {"p": 6.25, "q": 3.74, "v": 15.45, "log_cov": cov3},
    )  # fmt: skip
    ((value, low, high),) = retail_values(fitted, [RetailSummary(3, 50.0, 60.0, 40.0)], settings)
    assert low is not None
    assert high is not None
    assert low < value < high


def test_subscription_value_falls_with_risk() -> None:
    s = ValueSettings()
    assert subscription_value(20.0, 0.05, True, s) > subscription_value(20.0, 0.5, True, s) > 0


def test_population_is_bronze_until_known_then_ranks() -> None:
    pop = Population()
    assert pop.tier(1e9).value == "bronze"
    assert pop.segment(RfmValues(1.0, 9.0, 900.0)) is None
    values = [float(v) for v in range(1, 201)]
    rfm = [RfmValues(float(v), float(v % 9), float(v)) for v in range(1, 201)]
    assert Population.from_values(1, values[:49], rfm[:49], min_count=50).thresholds is None
    pop = Population.from_values(1, values, rfm, min_count=50)
    assert [pop.tier(x).value for x in (199.0, 180.0, 150.0, 20.0)] == [
        "platinum", "gold", "silver", "bronze",
    ]  # fmt: skip
    assert pop.segment(RfmValues(2.0, 8.0, 199.0)) == "champions"
    assert pop.segment(RfmValues(199.0, 0.0, 1.0)) == "lost"


def test_score_then_finish_writes_one_row_of_each_kind() -> None:
    profile = CustomerProfile()
    for kind in (EventType.PURCHASE, EventType.COMPLAINT, EventType.PAYMENT_FAILED):
        assert apply(profile, parse_event(EXAMPLES[kind], now=NOW))
    entry = Entry(profile, None, None, None)
    opts = ScoreOptions()
    scored = score_customer(
        "C-9", 1, entry, NOW, ModelState().serving(), opts, cause="event", cause_event_id="e-1"
    )
    out = finish([scored], ClvParams.default(), Population(), opts)
    (rec,) = out.records
    assert rec.cause_event_id == "e-1"
    assert rec.model_version == "prior-v1"
    assert {r.feature for r in rec.reasons} & {
        "complaints_unresolved",
        "failed_payments_consecutive",
    }
    assert [h[2] for h in out.history] == ["first"]
    assert entry.last_score == (
        rec.churn_probability,
        rec.band,
    )
    assert out.transitions
    assert out.profiles[0][2] == profile.to_bytes()
    assert out.messages[0][2] == "score:C-9:e-1"
    # a second score at the same clock: no history row, no transition
    model = ModelState().serving()
    again = finish(
        [score_customer("C-9", 1, entry, NOW, model, opts, cause="event", cause_event_id="e-2")],
        ClvParams.default(), Population(), opts,
    )  # fmt: skip
    assert again.history == []
    assert again.transitions == []
    assert again.snapshots == []


def _subscriber(probability: float, basis: str, population: Population) -> ScoreRecord:
    """One 9.99/month subscriber scored with the churn probability forced to ``probability``."""
    profile = CustomerProfile()
    assert apply(profile, parse_event(EXAMPLES[EventType.SUBSCRIPTION_STARTED], now=NOW))
    opts = ScoreOptions(value=ValueSettings(basis=basis))  # type: ignore[arg-type]
    scored = score_customer(
        "C-1042", 0, Entry(profile, None, None, None), NOW, ModelState().serving(), opts,
        cause="event", cause_event_id=None,
    )  # fmt: skip
    assert scored.subscription
    scored.probability = probability
    (rec,) = finish([scored], ClvParams.default(), population, opts).records
    return rec


def _known_population(top: float) -> Population:
    return Population.from_values(1, [top * v / 200 for v in range(1, 201)], [], min_count=50)


def test_tiers_and_value_at_risk_rank_the_value_if_retained_by_default() -> None:
    calm = _subscriber(0.05, "retained", _known_population(600.0))
    risky = _subscriber(0.80, "retained", _known_population(600.0))
    expected = subscription_retained(9.99, True, ValueSettings())
    assert calm.value_if_retained == risky.value_if_retained == pytest.approx(expected)
    assert calm.value_if_retained is not None  # scoring always writes it
    assert risky.clv < calm.clv < calm.value_if_retained  # the CLV still prices the risk in
    assert risky.tier == calm.tier  # being at risk does not make a customer less valuable
    assert risky.value_at_risk == pytest.approx(0.80 * expected)
    assert risky.value_at_risk > calm.value_at_risk


def test_the_clv_basis_ranks_the_risky_subscriber_lower() -> None:
    top = subscription_value(9.99, 0.05, True, ValueSettings())  # calm's CLV tops the population
    calm = _subscriber(0.05, "clv", _known_population(top * 1.01))
    risky = _subscriber(0.80, "clv", _known_population(top * 1.01))
    assert calm.tier == "platinum"
    assert risky.tier == "bronze"
    assert risky.value_at_risk == pytest.approx(0.80 * risky.clv)
