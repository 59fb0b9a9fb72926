"""PublishPolicy('changes'): the alerts service never misses a band, tier or stage change."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from churnwatch.storage import Published, PublishPolicy

scores = st.builds(
    Published,
    band=st.sampled_from(["low", "medium", "high", "critical"]),
    tier=st.sampled_from(["bronze", "gold"]),
    stage=st.sampled_from(["active", "at_risk", "lapsed"]),
    segment=st.sampled_from([None, "loyal"]),
    business_model=st.just("retail"),
    probability=st.floats(0, 1),
    value_at_risk=st.floats(0, 1000),
)


@given(st.lists(st.tuples(scores, st.booleans(), st.booleans()), min_size=1, max_size=60))
def test_the_last_message_always_says_what_the_latest_score_says(
    stream: list[tuple[Published, bool, bool]],
) -> None:
    """After every score, the last published message has the latest score's band, tier, stage
    and segment: so a consumer comparing messages sees every change, and the dropped scores
    differ from the last message only by small moves."""
    policy = PublishPolicy("changes", min_move=0.05, min_value_move=0.2)
    last: Published | None = None
    for score, silence, episode in stream:
        if policy.publish(last, score, silence=silence, open_episode=episode):
            last = score
        assert last is not None
        assert (last.band, last.tier, last.stage, last.segment) == (
            score.band, score.tier, score.stage, score.segment,
        )  # fmt: skip
        assert abs(last.probability - score.probability) < 0.05


@given(st.lists(scores, min_size=1, max_size=30))
def test_every_publishes_every_score(stream: list[Published]) -> None:
    last = None
    for score in stream:
        assert PublishPolicy().publish(last, score, silence=False, open_episode=False)
        last = score


def test_bad_mode_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="publish mode"):
        PublishPolicy("sometimes")  # type: ignore[arg-type]
