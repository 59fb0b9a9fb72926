"""The public API: `__all__` is complete, and the value types survive pickling."""

from __future__ import annotations

import pickle
import types
from datetime import date

import churnwatch.value as value
from churnwatch.value import (
    BgNbdParams,
    GammaGammaParams,
    QuantileSketch,
    TierCuts,
    fit_bgnbd,
    fit_gamma_gamma,
    update,
)


def test_all_lists_every_public_name() -> None:
    public = {
        name
        for name, obj in vars(value).items()
        if not name.startswith("_") and not isinstance(obj, types.ModuleType)
    }
    assert public == set(value.__all__)
    assert all(hasattr(value, name) for name in value.__all__)


def test_value_objects_pickle() -> None:
    x, tx, age, m = (
        [0, 1, 2, 0, 3, 1],
        [0, 5, 9, 0, 20, 2],
        [30, 25, 30, 10, 28, 6],
        [
            0,
            20.0,
            35.5,
            0,
            18.0,
            60.0,
        ],
    )
    sketch = QuantileSketch()
    sketch.add(3.0)
    objects = [
        update(update(None, date(2024, 1, 1), 5), date(2024, 3, 1), 7),
        BgNbdParams(0.2, 4.0, 0.8, 2.4),
        GammaGammaParams(6.0, 3.7, 15.0),
        fit_bgnbd(x, tx, age, penalizer=0.01),
        fit_gamma_gamma(x, m, penalizer=0.01),
        TierCuts(),
        sketch,
    ]
    for obj in objects:
        assert pickle.loads(pickle.dumps(obj)) == obj
