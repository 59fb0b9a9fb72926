"""Scoring's two processes in the service registry (``churnwatch.services`` entry points)."""

from churnwatch_runtime.registry import ServiceSpec

SCORING = ServiceSpec("scoring", "churnwatch_scoring", (), "CW_SCORING_PORT", 8003, order=30)
LEARNER = ServiceSpec("learner", "churnwatch_scoring.learner", order=40)
