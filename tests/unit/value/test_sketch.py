"""QuantileSketch: the documented error bounds on random data; order, merge and pickle."""

from __future__ import annotations

import itertools
import json
import math
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from churnwatch.value import QuantileSketch

SLACK = 1e-9  # float rounding at bucket boundaries


def sketch_of(values, **options) -> QuantileSketch:
    sketch = QuantileSketch(**options)
    for value in values:
        sketch.add(float(value))
    return sketch


def populations() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    return {
        "lognormal": rng.lognormal(3, 2, size=20_000),
        "exponential_with_zeros": np.where(rng.random(5000) < 0.3, 0.0, rng.exponential(50, 5000)),
        "mixed_signs": rng.normal(0, 100, size=5000),
        "heavy_ties": np.repeat([0.0, 12.5, 12.5, 99.0, 4000.0], 700),
        "tiny_and_huge": np.concatenate([rng.uniform(1e-6, 1e-5, 500), rng.uniform(1e6, 1e7, 500)]),
    }


@pytest.mark.parametrize("alpha", [0.01, 0.05])
@pytest.mark.parametrize("name", list(populations()))
def test_quantiles_are_within_the_relative_error_bound(name, alpha) -> None:
    values = populations()[name]
    sketch = sketch_of(values, relative_accuracy=alpha)
    gamma = (1 + alpha) / (1 - alpha)
    for q in np.linspace(0, 1, 201):
        exact = float(np.quantile(values, q, method="lower"))
        assert abs(sketch.quantile(q) - exact) <= alpha * abs(exact) * (1 + SLACK), q
        upper = sketch.upper_quantile(q)
        if exact >= 0:
            assert exact <= upper <= gamma * exact * (1 + SLACK), q
        else:
            assert exact <= upper <= exact / gamma * (1 - SLACK), q


@pytest.mark.parametrize("alpha", [0.01, 0.05])
@pytest.mark.parametrize("name", list(populations()))
def test_ranks_are_within_the_bound(name, alpha) -> None:
    values = np.sort(populations()[name])
    sketch = sketch_of(values, relative_accuracy=alpha)
    gamma = (1 + alpha) / (1 - alpha)

    def cdf(x: float) -> float:
        return float(np.searchsorted(values, x, side="right")) / values.size

    probes = np.concatenate([values[:: max(1, values.size // 300)], [0.0, -1.0, 1.0]])
    for x in probes:
        far = x * gamma if x > 0 else x / gamma
        assert cdf(x) - SLACK <= sketch.rank(float(x)) <= cdf(far) + SLACK, x


def test_extremes_and_count_are_exact() -> None:
    values = populations()["mixed_signs"]
    sketch = sketch_of(values)
    assert sketch.quantile(0.0) == values.min()
    assert sketch.quantile(1.0) == values.max()
    assert sketch.count == values.size
    assert sketch.rank(values.min() - 1) == 0.0
    assert sketch.rank(values.max()) == 1.0


values_strategy = st.lists(
    st.one_of(
        st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_subnormal=False),
        st.sampled_from([0.0, 1.0, 1.0, 250.0]),
    ),
    min_size=1,
    max_size=200,
)


@given(values_strategy, st.randoms(use_true_random=False), st.sampled_from([None, 8]))
def test_order_does_not_change_the_state(values, rnd, max_buckets) -> None:
    shuffled = list(values)
    rnd.shuffle(shuffled)
    assert sketch_of(shuffled, max_buckets=max_buckets) == sketch_of(
        values, max_buckets=max_buckets
    )


@given(values_strategy, st.lists(st.integers(min_value=0, max_value=200), max_size=5))
def test_merging_any_split_equals_one_sketch(values, cuts) -> None:
    bounds = sorted({0, len(values), *(c % (len(values) + 1) for c in cuts)})
    merged = QuantileSketch(max_buckets=8)
    for start, end in itertools.pairwise(bounds):
        merged.merge(sketch_of(values[start:end], max_buckets=8))
    assert merged == sketch_of(values, max_buckets=8)
    assert merged.count == len(values)


@given(values_strategy)
def test_pickle_and_json_round_trips(values) -> None:
    sketch = sketch_of(values)
    restored = pickle.loads(pickle.dumps(sketch))
    assert restored == sketch
    assert restored.quantile(0.5) == sketch.quantile(0.5)
    restored.add(1.0)  # still a working sketch
    assert restored.count == sketch.count + 1
    assert QuantileSketch.from_dict(json.loads(json.dumps(sketch.to_dict()))) == sketch


def test_bucket_limit_keeps_the_largest_magnitudes() -> None:
    """50 buckets of γ = 1.1 / 0.9 span a factor γ^50 ≈ 2e4 below the maximum; lower values
    are merged into the lowest bucket, so only their quantiles lose the bound."""
    sketch = sketch_of([10.0**k for k in range(-30, 31)], relative_accuracy=0.1, max_buckets=50)
    assert len(sketch.to_dict()["pos"]) == 6  # 1e26 … 1e30, and the merged lowest bucket
    assert sketch.count == 61
    for k in range(26, 31):
        assert sketch.quantile((k + 30) / 60) == pytest.approx(10.0**k, rel=0.1)
    assert sketch.quantile(0.5) > 1e25  # the exact median is 1: collapsed, outside the bound


def test_empty_sketch_and_bad_input_are_refused() -> None:
    sketch = QuantileSketch()
    with pytest.raises(ValueError, match="empty"):
        sketch.quantile(0.5)
    with pytest.raises(ValueError, match="empty"):
        sketch.rank(1.0)
    with pytest.raises(ValueError, match="finite"):
        sketch.add(math.nan)
    with pytest.raises(ValueError, match="count"):
        sketch.add(1.0, count=0)
    sketch.add(1.0)
    with pytest.raises(ValueError, match=r"q must be in \[0, 1\]"):
        sketch.quantile(1.5)
    with pytest.raises(ValueError, match="different parameters"):
        sketch.merge(QuantileSketch(relative_accuracy=0.02))
    with pytest.raises(ValueError, match="relative_accuracy"):
        QuantileSketch(relative_accuracy=1.0)
    with pytest.raises(ValueError, match="max_buckets"):
        QuantileSketch(max_buckets=0)
    with pytest.raises(TypeError):
        hash(sketch)
    assert "count=1" in repr(sketch)
