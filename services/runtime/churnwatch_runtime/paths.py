"""Where the project's files live, so launchers find deploy/ and var/ from any working dir."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]
"""The repository root (services/runtime/churnwatch_runtime/paths.py → three levels up)."""


def cw_home() -> Path:
    """Data home for the local broker and database: ``$CW_HOME`` or ``<repo>/var``."""
    return Path(os.environ.get("CW_HOME", PROJECT_ROOT / "var")).resolve()
