"""Paired comparisons of two models scored on the *same* labels: DeLong's test on the AUC
difference and a normal interval on the mean log-loss difference.

The switch from the prior, the fall-back to it and every champion/challenger promotion use
`compare` (docs/model.md, "The guarded switch"): a candidate replaces an incumbent only when the
lower end of the 95% interval of its AUC advantage is above zero (and its mean log loss is not
worse), so a difference the window cannot resolve never flips the model. Pairing matters: both
models see the same customers, so most of the sampling noise cancels in the difference.

DeLong, DeLong & Clarke-Pearson (1988), with the structural components computed from midranks
(Sun & Xu 2014): O(n log n), exact ties counted half, as `roc_auc`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata

__all__ = ["PairedComparison", "compare", "delong_auc_difference"]

Z95 = 1.959963984540054
"""The two-sided 95% normal quantile."""


@dataclass(frozen=True, slots=True)
class PairedComparison:
    """Candidate minus incumbent on the same labels: AUC difference with its 95% interval,
    mean log-loss difference (negative: the candidate is better) with its interval."""

    labels: int
    positives: int
    incumbent_auc: float
    candidate_auc: float
    auc_diff: float
    auc_low: float
    auc_high: float
    log_loss_diff: float
    log_loss_low: float
    log_loss_high: float

    def candidate_wins(self, auc_margin: float = 0.0, log_loss_slack: float = 0.0) -> bool:
        """Whether the candidate is better beyond doubt: the AUC interval lies above zero, the
        point difference is at least ``auc_margin`` and its mean log loss is no worse (plus
        ``log_loss_slack``).

        >>> c = PairedComparison(100, 50, .7, .8, .1, .02, .18, -.05, -.08, -.02)
        >>> c.candidate_wins(), c.candidate_wins(auc_margin=0.15)
        (True, False)
        """
        return (
            self.auc_low > 0.0
            and self.auc_diff >= auc_margin
            and self.log_loss_diff <= log_loss_slack
        )


def _components(
    positives: NDArray[np.float64], negatives: NDArray[np.float64]
) -> tuple[float, NDArray[np.float64], NDArray[np.float64]]:
    """AUC and DeLong's structural components V10 (per positive), V01 (per negative)."""
    m, n = positives.size, negatives.size
    both = rankdata(np.concatenate([positives, negatives]))
    rank_pos = rankdata(positives)
    rank_neg = rankdata(negatives)
    v10 = (both[:m] - rank_pos) / n
    v01 = 1.0 - (both[m:] - rank_neg) / m
    return float(v10.mean()), v10, v01


def delong_auc_difference(
    y: ArrayLike, incumbent: ArrayLike, candidate: ArrayLike
) -> tuple[float, float, float, float, float]:
    """(incumbent AUC, candidate AUC, difference, its standard error, two-sided p-value).

    Hand-worked: positives scored (0.9, 0.4) and negatives (0.5, 0.1) by the incumbent
    give AUC 3/4 (V10 = 1, 1/2; V01 = 1/2, 1); the candidate ranks every positive first, AUC 1
    (all components 1). The differences (0, 1/2) and (1/2, 0) have variance 1/8 each, so
    var = 1/8 / 2 + 1/8 / 2 and se = sqrt(1/8) = 0.3536.

    >>> a, b, d, se, p = delong_auc_difference([1, 1, 0, 0], [.9, .4, .5, .1], [.9, .6, .5, .1])
    >>> a, b, d, round(se, 4)
    (0.75, 1.0, 0.25, 0.3536)
    """
    labels = np.asarray(y, dtype=bool)
    a = np.asarray(incumbent, dtype=np.float64)
    b = np.asarray(candidate, dtype=np.float64)
    m, n = int(labels.sum()), int((~labels).sum())
    if m < 2 or n < 2:
        raise ValueError("a paired AUC test needs at least 2 labels of each class")
    auc_a, v10_a, v01_a = _components(a[labels], a[~labels])
    auc_b, v10_b, v01_b = _components(b[labels], b[~labels])
    d10, d01 = v10_b - v10_a, v01_b - v01_a
    var = float(d10.var(ddof=1)) / m + float(d01.var(ddof=1)) / n
    se = math.sqrt(max(var, 0.0))
    diff = auc_b - auc_a
    tied = 1.0 if diff == 0.0 else 0.0
    p = tied if se == 0.0 else math.erfc(abs(diff) / se / math.sqrt(2.0))
    return auc_a, auc_b, diff, se, p


def compare(y: ArrayLike, incumbent: ArrayLike, candidate: ArrayLike) -> PairedComparison:
    """Candidate vs incumbent on the same labels (module docstring); 95% intervals.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random(2000) < 0.3
    >>> good = y + rng.normal(0, 1, 2000)
    >>> poor = y + rng.normal(0, 3, 2000)
    >>> sig = lambda v: 1 / (1 + np.exp(-v))
    >>> compare(y, sig(poor - 1), sig(good - 1)).candidate_wins()
    True
    >>> compare(y, sig(good - 1), sig(poor - 1)).candidate_wins()
    False
    """
    labels = np.asarray(y, dtype=bool)
    a = np.asarray(incumbent, dtype=np.float64)
    b = np.asarray(candidate, dtype=np.float64)
    auc_a, auc_b, diff, se, _ = delong_auc_difference(labels, a, b)
    eps = 1e-4
    loss_a = -np.log(np.clip(np.where(labels, a, 1.0 - a), eps, 1.0))
    loss_b = -np.log(np.clip(np.where(labels, b, 1.0 - b), eps, 1.0))
    d = loss_b - loss_a
    mean = float(d.mean())
    half = Z95 * float(d.std(ddof=1)) / math.sqrt(d.size)
    return PairedComparison(
        labels=int(labels.size),
        positives=int(labels.sum()),
        incumbent_auc=auc_a,
        candidate_auc=auc_b,
        auc_diff=diff,
        auc_low=diff - Z95 * se,
        auc_high=diff + Z95 * se,
        log_loss_diff=mean,
        log_loss_low=mean - half,
        log_loss_high=mean + half,
    )
