"""CDNOW data and `lifetimes` as the reference for churnwatch.value (test and bench helper).

lifetimes 0.11.3 under pandas 3 / numpy 2.4 works, with two side effects that are contained
here, so callers see neither:

- importing it emits ``pandas.errors.Pandas4Warning`` (a DeprecationWarning) from
  ``lifetimes/utils.py:9`` (``pd.options.mode.chained_assignment = None``, a no-op since
  pandas 3);
- it calls ``warnings.simplefilter("ignore", FutureWarning)`` at import and on every
  likelihood evaluation, which would silence FutureWarnings process-wide.

Every lifetimes call goes through `quiet_lifetimes`, which ignores exactly that warning and
restores the warning filters afterwards.

For the benchmark: ``python -c "from tests.unit.value.cdnow import
clv_param_max_rel_err_vs_lifetimes as f; print(f())"`` from the project root.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from churnwatch.value import (
    BgNbdFit,
    GammaGammaFit,
    fit_bgnbd,
    fit_gamma_gamma,
)

__all__ = [
    "WEEKS_PER_MONTH",
    "Summary",
    "cdnow_dir",
    "clv_param_max_rel_err_vs_lifetimes",
    "lifetimes_fits",
    "load_summary",
    "param_relative_errors",
    "quiet_lifetimes",
    "read_transactions",
]

WEEKS_PER_MONTH = 4.345
"""lifetimes' month in weeks (``freq="W"`` factor); the CDNOW summary is in weeks."""


@contextmanager
def quiet_lifetimes() -> Iterator[None]:
    """Import/call lifetimes without its import warning and without leaking its filters."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="The 'mode.chained_assignment' option is deprecated",
            category=DeprecationWarning,
            module="lifetimes",
        )
        yield


def cdnow_dir() -> Path:
    """The directory of lifetimes' bundled data sets."""
    with quiet_lifetimes():
        import lifetimes

    return Path(lifetimes.__file__).parent / "datasets"


@dataclass(frozen=True)
class Summary:
    """The CDNOW summary (2,357 customers, weeks, calibration ending 1997-09-30)."""

    customer_id: NDArray[np.int64]
    frequency: NDArray[np.float64]
    recency: NDArray[np.float64]
    T: NDArray[np.float64]
    monetary: NDArray[np.float64]
    frame: Any  # the pandas DataFrame, for lifetimes


@cache
def load_summary() -> Summary:
    """``lifetimes.datasets.load_cdnow_summary_data_with_monetary_value()``."""
    with quiet_lifetimes():
        from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

        frame = load_cdnow_summary_data_with_monetary_value()
    return Summary(
        customer_id=frame.index.to_numpy(),
        frequency=frame["frequency"].to_numpy(dtype=np.float64),
        recency=frame["recency"].to_numpy(dtype=np.float64),
        T=frame["T"].to_numpy(dtype=np.float64),
        monetary=frame["monetary_value"].to_numpy(dtype=np.float64),
        frame=frame,
    )


def read_transactions(name: str = "CDNOW_master.txt") -> list[tuple[str, date, Decimal]]:
    """(customer id, day, amount) of every row of a CDNOW transaction file, in file order.

    ``CDNOW_master.txt`` has a header and four columns (id, date, CDs, dollars);
    ``CDNOW_sample.txt`` has no header and a second id column (the summary's ``ID``) first.
    """
    rows = []
    for line in (cdnow_dir() / name).read_text().splitlines():
        fields = line.split()
        if not fields or fields[0] == "customer_id":
            continue
        customer, day, amount = (
            (fields[1], fields[2], fields[4])
            if len(fields) == 5
            else (
                fields[0],
                fields[1],
                fields[3],
            )
        )
        rows.append((customer, date(int(day[:4]), int(day[4:6]), int(day[6:])), Decimal(amount)))
    return rows


@cache
def lifetimes_fits() -> tuple[Any, Any]:
    """lifetimes' ``BetaGeoFitter`` and ``GammaGammaFitter`` fitted on the CDNOW summary."""
    s = load_summary()
    with quiet_lifetimes():
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        bgf = BetaGeoFitter().fit(s.frequency, s.recency, s.T)
        repeat = s.frequency > 0
        ggf = GammaGammaFitter().fit(s.frequency[repeat], s.monetary[repeat])
    return bgf, ggf


@cache
def churnwatch_fits() -> tuple[BgNbdFit, GammaGammaFit]:
    """Our fits on the same summary (Gamma-Gamma on the whole population: it filters)."""
    s = load_summary()
    return fit_bgnbd(s.frequency, s.recency, s.T), fit_gamma_gamma(s.frequency, s.monetary)


def param_relative_errors() -> dict[str, float]:
    """``|ours - lifetimes| / |lifetimes|`` for r, alpha, a, b, p, q, v on CDNOW."""
    bgf, ggf = lifetimes_fits()
    bg, gg = churnwatch_fits()
    ours = {
        "r": bg.params.r,
        "alpha": bg.params.alpha,
        "a": bg.params.a,
        "b": bg.params.b,
        "p": gg.params.p,
        "q": gg.params.q,
        "v": gg.params.v,
    }
    theirs = {**bgf.params_.to_dict(), **ggf.params_.to_dict()}
    return {name: abs(value - theirs[name]) / abs(theirs[name]) for name, value in ours.items()}


def clv_param_max_rel_err_vs_lifetimes() -> float:
    """The benchmark figure: max relative error of the 7 fitted parameters vs lifetimes."""
    return max(param_relative_errors().values())
