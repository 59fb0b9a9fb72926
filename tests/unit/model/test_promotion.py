"""Champion/challenger: the challenger is promoted when truly better on the duel, not else."""

from __future__ import annotations

from churnwatch.model import (
    ChallengerPromoted,
    LearnerSpec,
    ModelConfig,
    PromotionRule,
    roc_auc,
)

from .conftest import COUNT_ONLY_RULE, replay
from .synthetic import stream

# a learner that barely moves: a truly worse model on any stream
CRIPPLED = LearnerSpec("crippled", lr=1e-5, intercept_lr=1e-5)
GOOD = LearnerSpec("good", lr=0.01)
RULE = PromotionRule(window=3000, min_labels=2000, min_per_class=50, check_every=500)


def promotions(records) -> list[tuple[int, ChallengerPromoted]]:
    return [(i, r) for i, r in records if isinstance(r, ChallengerPromoted)]


def test_better_challenger_is_promoted_and_the_promotion_recorded() -> None:
    data = stream(6000, seed=31)
    config = ModelConfig(
        cold_start=COUNT_ONLY_RULE, champion=CRIPPLED, challenger=GOOD, promotion=RULE
    )
    state, records = replay(data, config)
    promoted = promotions(records)
    assert len(promoted) == 1
    i, record = promoted[0]
    assert (record.promoted, record.demoted) == ("good", "crippled")
    assert record.challenger_auc >= record.champion_auc + RULE.auc_margin
    assert record.challenger_log_loss <= record.champion_log_loss
    assert RULE.min_labels <= record.duel_labels <= RULE.window
    assert record.version == f"good.g2.n{i + 1}"  # g1 was the switch from the prior
    assert record in state.history
    assert (state.champion.spec, state.challenger and state.challenger.spec) == (GOOD, CRIPPLED)
    assert state.predict(data.rows[0]).model_version.startswith("good.g2.")
    # the duel's numbers are the two models' AUCs on the same labels
    assert state.promotions == 1


def test_worse_challenger_is_never_promoted() -> None:
    data = stream(6000, seed=32)
    config = ModelConfig(
        cold_start=COUNT_ONLY_RULE, champion=GOOD, challenger=CRIPPLED, promotion=RULE
    )
    state, records = replay(data, config)
    assert promotions(records) == []
    assert state.champion.spec == GOOD
    quality = state.quality()
    assert quality.champion.auc is not None
    assert quality.challenger is not None
    assert quality.challenger.auc is not None
    assert quality.champion.auc > quality.challenger.auc  # the rule had something to refuse


def test_equally_good_challenger_is_not_promoted_within_the_margin(stationary, stationary_run):
    state, records = stationary_run
    assert promotions(records) == []
    quality = state.quality()
    assert quality.champion.auc is not None
    assert quality.challenger is not None
    assert quality.challenger.auc is not None
    assert abs(quality.challenger.auc - quality.champion.auc) < ModelConfig().promotion.auc_margin
    true_auc = roc_auc(stationary.labels[-5000:], stationary.true_p[-5000:])
    assert true_auc is not None
    assert quality.champion.auc > true_auc - 0.02  # both are good, not both bad


def test_no_promotion_before_the_duel_has_enough_labels() -> None:
    data = stream(1900, seed=33)
    config = ModelConfig(
        cold_start=COUNT_ONLY_RULE, champion=CRIPPLED, challenger=GOOD, promotion=RULE
    )
    state, records = replay(data, config)
    assert promotions(records) == []
    assert state.quality().duel_labels == len(data.rows) < RULE.min_labels
