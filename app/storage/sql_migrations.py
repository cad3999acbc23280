"""Apply the Alembic migrations at start-up, idempotently, on SQLite and PostgreSQL."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

ALEMBIC_DIR = Path(__file__).resolve().parents[2] / "migrations" / "alembic"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at our scripts, bound to an engine."""
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_sql_schema(engine: Engine) -> None:
    """Bring the SQL schema to the newest revision (no-op when already there)."""
    command.upgrade(alembic_config(engine), "head")
