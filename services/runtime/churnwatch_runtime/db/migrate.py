"""Run the project's Alembic migrations programmatically (services call it on start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from churnwatch_runtime.db.engine import sync_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at ``url`` to ``revision`` (idempotent; Alembic locks its version row)."""
    command.upgrade(alembic_config(url), revision)
