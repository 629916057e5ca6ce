"""Alembic, driven from code: the migrations ship inside the package, no alembic.ini needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Not Alembic's default name, so the store can share a database with MLflow's tables.
VERSION_TABLE = "shipml_alembic_version"
_POSTGRES_LOCK_KEY = 0x5348_4950  # "SHIP": serialises concurrent upgrades on PostgreSQL


def alembic_config(connection: Connection) -> Config:
    """An Alembic config for the store's migrations, bound to `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of shipml."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def upgrade_to_head(write_engine: Engine) -> None:
    """Bring the schema to the newest revision in one transaction, one process at a time."""
    with write_engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_LOCK_KEY}
            )
        command.upgrade(alembic_config(connection), "head")
