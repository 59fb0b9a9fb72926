"""The public API: `__all__` is complete, and the value types survive pickling."""

from __future__ import annotations

import pickle
import types
from datetime import UTC, datetime

import churnwatch.model as model
from churnwatch.model import (
    BandThresholds,
    CustomerKind,
    LabelResolver,
    ModelConfig,
    OutcomeEvent,
    OutcomeKind,
    Snapshot,
    SnapshotOutcome,
)


def test_all_lists_every_public_name() -> None:
    public = {
        name
        for name, obj in vars(model).items()
        if not name.startswith("_") and not isinstance(obj, types.ModuleType)
    }
    assert public == set(model.__all__)
    assert all(hasattr(model, name) for name in model.__all__)


def test_value_objects_pickle() -> None:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    snap = Snapshot("C-1", at, CustomerKind.SUBSCRIPTION, {"nps_score": 3.0})
    label = LabelResolver().resolve(snap, [OutcomeEvent(OutcomeKind.CANCELLED, at)], at)
    objects = [
        snap,
        SnapshotOutcome(first_cancel=at),
        LabelResolver(),
        ModelConfig(),
        BandThresholds(),
        label,
        model.ModelState().predict({"nps_score": 3.0}),
    ]
    for obj in objects:
        assert pickle.loads(pickle.dumps(obj)) == obj
