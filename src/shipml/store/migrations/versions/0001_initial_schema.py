"""Initial schema: runs, step timings, validation reports, quarantine, profiles, alerts.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.schema import SchemaItem

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN_ONLY = sa.text("status = 'open'")


def upgrade() -> None:
    """Create every table and index of the store."""
    _create_runs()
    _create_step_runs()
    _create_validation_reports()
    _create_quarantined_rows()
    _create_profiles()
    _create_alerts()


def downgrade() -> None:
    """Drop everything `upgrade` created."""
    for table in (
        "alerts",
        "profiles",
        "quarantined_rows",
        "validation_reports",
        "step_runs",
        "runs",
    ):
        op.drop_table(table)


def _timestamp(name: str, *, nullable: bool) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _run_id(*, nullable: bool, ondelete: str) -> list[SchemaItem]:
    return [
        sa.Column("run_id", sa.String(length=32), nullable=nullable),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete=ondelete),
    ]


def _create_runs() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("pipeline", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _timestamp("window_start", nullable=True),
        _timestamp("window_end", nullable=True),
        _timestamp("started_at", nullable=False),
        _timestamp("finished_at", nullable=True),
        sa.Column("rows_in", sa.BigInteger(), nullable=True),
        sa.Column("rows_valid", sa.BigInteger(), nullable=True),
        sa.Column("rows_quarantined", sa.BigInteger(), nullable=True),
        sa.Column("rows_out", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("traceback", sa.Text(), nullable=True),
        sa.Column("failed_step", sa.String(length=200), nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("git_commit", sa.String(length=64), nullable=True),
        sa.Column("git_dirty", sa.Boolean(), nullable=True),
        sa.Column("data_version", sa.String(length=200), nullable=True),
        sa.Column("config_hash", sa.String(length=128), nullable=True),
        sa.Column("model_name", sa.String(length=200), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("model_alias", sa.String(length=64), nullable=True),
        sa.Column("shipml_version", sa.String(length=32), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_runs_pipeline_kind_window_start", "runs", ["pipeline", "kind", "window_start"]
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])


def _create_step_runs() -> None:
    op.create_table(
        "step_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        *_run_id(nullable=False, ondelete="CASCADE"),
        sa.Column("step", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _timestamp("started_at", nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("rows_in", sa.BigInteger(), nullable=True),
        sa.Column("rows_out", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_step_runs_run_id", "step_runs", ["run_id"])


def _create_validation_reports() -> None:
    op.create_table(
        "validation_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        *_run_id(nullable=False, ondelete="CASCADE"),
        sa.Column("boundary", sa.String(length=200), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("invalid_rows", sa.BigInteger(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_validation_reports_run_id", "validation_reports", ["run_id"])


def _create_quarantined_rows() -> None:
    op.create_table(
        "quarantined_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        *_run_id(nullable=False, ondelete="CASCADE"),
        sa.Column("boundary", sa.String(length=200), nullable=False),
        sa.Column("row_position", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_quarantined_rows_run_id_boundary", "quarantined_rows", ["run_id", "boundary"]
    )


def _create_profiles() -> None:
    op.create_table(
        "profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        *_run_id(nullable=True, ondelete="SET NULL"),
        sa.Column("pipeline", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        _timestamp("window_start", nullable=True),
        _timestamp("window_end", nullable=True),
        sa.Column("model_name", sa.String(length=200), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        _timestamp("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_profiles_pipeline_kind_name_window_start",
        "profiles",
        ["pipeline", "kind", "name", "window_start"],
    )


def _create_alerts() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("column", sa.String(length=200), nullable=True),
        *_run_id(nullable=True, ondelete="SET NULL"),
        _timestamp("window_start", nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        _timestamp("opened_at", nullable=False),
        _timestamp("closed_at", nullable=True),
        _timestamp("last_seen_at", nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alerts_status_last_seen_at", "alerts", ["status", "last_seen_at"])
    op.create_index(
        "uq_alerts_open_pipeline_rule_column",
        "alerts",
        ["pipeline", "rule", sa.text("coalesce(\"column\", '')")],
        unique=True,
        sqlite_where=_OPEN_ONLY,
        postgresql_where=_OPEN_ONLY,
    )
