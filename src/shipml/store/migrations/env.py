"""Alembic environment for the store: runs on the connection handed over by the store.

The store calls Alembic from code (see `shipml.store._migrate`). To write a new revision,
do the same: `command.revision(alembic_config(connection), message=..., autogenerate=True)`
with a connection to a database migrated to the current head.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from shipml.store._migrate import VERSION_TABLE
from shipml.store._types import UtcDateTime
from shipml.store.schema import Base


def _run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None or context.is_offline_mode():
        raise RuntimeError(
            "shipml's migrations run online on a connection handed over in code: "
            "use RunStore.migrate()"
        )
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    # Revisions stay frozen: they spell out the stored type, not shipml's decorator.
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


_run_migrations()
