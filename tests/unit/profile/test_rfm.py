"""RFM scores against population cut points, and the named segments of the grid."""

from __future__ import annotations

import itertools

import pytest

from churnwatch.events import EventType as E
from churnwatch.profile import (
    CustomerProfile,
    RfmCuts,
    RfmSegment,
    features,
    rfm_scores,
    rfm_segment,
    rfm_values,
)

from .support import at, build, event

CUTS = RfmCuts(recency=(7, 21, 45, 90), frequency=(1, 2, 3, 6), monetary=(20, 60, 150, 400))


def test_extremes_get_the_extreme_scores():
    best = rfm_scores(0, 100, 10_000, CUTS)
    worst = rfm_scores(1_000, 0, 0, CUTS)
    assert (best.r, best.f, best.m) == (5, 5, 5)
    assert (worst.r, worst.f, worst.m) == (1, 1, 1)


@pytest.mark.parametrize("quintile", range(4))
def test_a_value_on_a_cut_falls_in_the_lower_quintile(quintile):
    on = rfm_scores(CUTS.recency[quintile], CUTS.frequency[quintile], CUTS.monetary[quintile], CUTS)
    above = rfm_scores(
        CUTS.recency[quintile] + 0.5,
        CUTS.frequency[quintile] + 0.5,
        CUTS.monetary[quintile] + 0.5,
        CUTS,
    )
    assert (on.f, on.m) == (quintile + 1, quintile + 1)
    assert (above.f, above.m) == (quintile + 2, quintile + 2)
    assert (on.r, above.r) == (5 - quintile, 4 - quintile)


def test_scores_are_monotonic():
    values = [0, 1, 3, 10, 30, 100, 300, 1000]
    scores = [rfm_scores(v, v, v, CUTS) for v in values]
    assert [s.r for s in scores] == sorted((s.r for s in scores), reverse=True)
    assert [s.f for s in scores] == sorted(s.f for s in scores)
    assert [s.m for s in scores] == sorted(s.m for s in scores)


@pytest.mark.parametrize(
    ("scores", "segment"),
    [
        ((5, 5, 5), RfmSegment.CHAMPIONS),
        ((4, 4, 5), RfmSegment.LOYAL),
        ((5, 3, 2), RfmSegment.POTENTIAL_LOYALIST),
        ((5, 1, 1), RfmSegment.NEW),
        ((4, 1, 1), RfmSegment.PROMISING),
        ((3, 3, 3), RfmSegment.NEED_ATTENTION),
        ((3, 1, 2), RfmSegment.ABOUT_TO_SLEEP),
        ((2, 4, 3), RfmSegment.AT_RISK),
        ((1, 5, 5), RfmSegment.CANNOT_LOSE_THEM),
        ((2, 2, 1), RfmSegment.HIBERNATING),
        ((1, 1, 1), RfmSegment.LOST),
    ],
)
def test_named_cells(scores, segment):
    assert rfm_segment(*scores) is segment


def test_the_grid_is_complete_and_every_segment_is_reachable():
    cells = {rfm_segment(*s) for s in itertools.product(range(1, 6), repeat=3)}
    assert cells == set(RfmSegment)


@pytest.mark.parametrize("scores", [(0, 3, 3), (3, 6, 3), (3, 3, -1)])
def test_scores_out_of_range_are_refused(scores):
    with pytest.raises(ValueError, match="score must be 1-5"):
        rfm_segment(*scores)


def test_cuts_must_be_four_ascending_quantiles():
    with pytest.raises(ValueError, match="ascending"):
        RfmCuts(recency=(3, 2, 4, 5), frequency=(1, 2, 3, 4), monetary=(1, 2, 3, 4))
    with pytest.raises(ValueError, match="4 ascending"):
        RfmCuts(recency=(1, 2, 3), frequency=(1, 2, 3, 4), monetary=(1, 2, 3, 4))  # type: ignore[arg-type]


def test_values_come_from_the_profiles_365_day_window():
    profile = build([event(E.PURCHASE, d, amount="25.00") for d in (0, 300, 390)])
    values, feats = rfm_values(profile, at(400)), features(profile, at(400))
    assert values is not None
    assert values.recency_days == pytest.approx(10)
    assert (values.frequency, values.monetary) == (feats["purchases_365d"], feats["spend_365d"])
    assert values.frequency == 2
    assert rfm_values(CustomerProfile(), at(0)) is None
