"""Real purchase histories as churnwatch events: CDNOW (shipped with lifetimes) and any CSV.

Loaders are iterators of plain event dicts that satisfy the v1 contract (``docs/events.md``);
``cli.app`` is mounted as ``churnwatch replay``.
"""

from ._common import (
    BadRowError,
    LoaderError,
    LoadReport,
    MappingError,
    RowError,
    format_amount,
    parse_amount,
    purchase_event,
)
from .cdnow import cdnow_path, iter_cdnow, iter_cdnow_lines
from .csv_transactions import CsvMapping, iter_csv, iter_csv_lines, parse_moment
from .summary import RfmSummary, rfm_summary

__all__ = [
    "BadRowError",
    "CsvMapping",
    "LoadReport",
    "LoaderError",
    "MappingError",
    "RfmSummary",
    "RowError",
    "cdnow_path",
    "format_amount",
    "iter_cdnow",
    "iter_cdnow_lines",
    "iter_csv",
    "iter_csv_lines",
    "parse_amount",
    "parse_moment",
    "purchase_event",
    "rfm_summary",
]
