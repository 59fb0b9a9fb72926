"""Checking the simulator's truth against what the simulation then does."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def realised_gap(churned: NDArray[np.bool_], p: NDArray[np.float64]) -> tuple[float, float]:
    """(realised share - mean oracle probability, its standard deviation if the oracle is right:
    each customer an independent coin with probability ``p_i``).

    >>> realised_gap(np.array([True, False]), np.array([0.5, 0.5]))
    (0.0, 0.3535533905932738)
    """
    return float(churned.mean() - p.mean()), float(np.sqrt((p * (1 - p)).sum()) / len(p))
