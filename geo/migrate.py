"""Schema migrations (Alembic, scripts in geo/migrations): upgrade, downgrade, current revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from geo.db import get_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(connection: object) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine | None = None, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest)."""
    with (engine or get_engine()).begin() as conn:
        command.upgrade(_config(conn), revision)


def downgrade(engine: Engine | None = None, revision: str = "base") -> None:
    """Take the schema back to `revision` (default: empty)."""
    with (engine or get_engine()).begin() as conn:
        command.downgrade(_config(conn), revision)


def current(engine: Engine | None = None) -> str | None:
    with (engine or get_engine()).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def revision(message: str, engine: Engine | None = None) -> None:
    """Autogenerate a new migration script against the live database (developers only)."""
    with (engine or get_engine()).begin() as conn:
        command.revision(_config(conn), message=message, autogenerate=True)
