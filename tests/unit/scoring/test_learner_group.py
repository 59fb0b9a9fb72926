"""The learner reads the scoring workers' watermarks by group id; on defaults the two agree.

They once did not (learner ``cw-scoring``, workers ``scoring``): a default deployment's learner
saw no watermark, learned no label and published no tier cut points, so every customer stayed
bronze and the save-team playbooks could not fire.
"""

from __future__ import annotations

import pytest

from churnwatch_scoring.learner.settings import LearnerSettings
from churnwatch_scoring.settings import ScoringSettings


def test_the_learner_follows_the_workers_group_on_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CW_LEARNER_GROUP_ID", raising=False)
    monkeypatch.delenv("CW_SCORING_GROUP_ID", raising=False)
    assert LearnerSettings().group_id == ScoringSettings().group_id == "scoring"
