"""The public API is complete, and the vocabularies match the rest of churnwatch."""

from __future__ import annotations

import inspect
import typing

import churnwatch.alerts as alerts
from churnwatch.model import Band
from churnwatch.profile import RfmSegment, Stage
from churnwatch.value import Tier
from churnwatch_sim.actions import ActionType


def test_all_lists_every_public_name_once():
    public = {
        name
        for name, obj in vars(alerts).items()
        if not name.startswith("_") and not inspect.ismodule(obj)
    }
    assert public == set(alerts.__all__)
    assert len(alerts.__all__) == len(set(alerts.__all__))


def test_vocabularies_match_the_enums_they_mirror():
    assert tuple(b.value for b in Band) == alerts.BANDS  # lowest first in both
    assert tuple(reversed([t.value for t in Tier])) == alerts.TIERS  # Tier is best first
    assert tuple(s.label for s in Stage) == alerts.STAGES
    assert tuple(s.value for s in RfmSegment) == alerts.RFM_SEGMENTS


def test_action_types_are_those_the_simulator_reads():
    assert set(alerts.ACTION_TYPES) == set(typing.get_args(ActionType))
    assert set(alerts.DEFAULT_MODE) == set(alerts.ACTION_TYPES) == set(alerts.DEFAULT_CHANNEL)


def test_every_field_of_the_condition_language_is_a_fact():
    assert set(alerts.FIELDS) <= set(alerts.Facts.model_fields)
