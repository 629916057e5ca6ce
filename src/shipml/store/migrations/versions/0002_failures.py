"""Failed windows as events: invalid row counts, run triggers, alert ranges, undelivered notices.

- `runs.rows_invalid`: rows that broke a contract, so that rows_in = valid + invalid for
  every run, failed or not (`rows_quarantined` counts those of them set aside).
- `runs.trigger`: what started a run ("run", "scheduler", "airflow", ...); the scheduler
  resumes after the last window it ran itself.
- `alerts.first_window_start`, `alerts.closed_window_start`: the windows an alert spans,
  from the first that raised it to the one that cleared it (alert state goes by window time).
- `undelivered_notices`: notifications a sink gave up on, sent again by the next run.

Revision ID: 0002_failures
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_failures"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns and the table."""
    op.add_column("runs", sa.Column("rows_invalid", sa.BigInteger(), nullable=True))
    op.add_column("runs", sa.Column("trigger", sa.String(length=16), nullable=True))
    op.add_column(
        "alerts", sa.Column("first_window_start", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "alerts", sa.Column("closed_window_start", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_table(
        "undelivered_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline", sa.String(length=200), nullable=False),
        sa.Column("sink", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_undelivered_notices")),
    )


def downgrade() -> None:
    """Drop what `upgrade` added."""
    op.drop_table("undelivered_notices")
    with op.batch_alter_table("alerts") as alerts:
        alerts.drop_column("closed_window_start")
        alerts.drop_column("first_window_start")
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("trigger")
        runs.drop_column("rows_invalid")
