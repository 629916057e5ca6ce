"""Labels: one row per `shipml labels ingest`, with its exact counts.

- `label_ingests`: the range read, and how many labels were read, matched a stored
  prediction, matched none, repeated a key (in the batch or already labelled), were
  unusable (a null key or label); how many predictions were still unlabelled after
  `label_delay`; the windows whose realized performance was computed; where the labels that
  were not joined were kept.

Revision ID: 0003_labels
Revises: 0002_failures
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_labels"
down_revision: str | Sequence[str] | None = "0002_failures"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the table."""
    op.create_table(
        "label_ingests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pipeline", sa.String(length=200), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("range_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("range_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("labels_read", sa.BigInteger(), nullable=False),
        sa.Column("matched", sa.BigInteger(), nullable=False),
        sa.Column("unmatched", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("invalid", sa.BigInteger(), nullable=False),
        sa.Column("overdue", sa.BigInteger(), nullable=False),
        sa.Column("predictions", sa.BigInteger(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_ingests")),
    )
    op.create_index(
        "ix_label_ingests_pipeline_ingested_at", "label_ingests", ["pipeline", "ingested_at"]
    )


def downgrade() -> None:
    """Drop what `upgrade` added."""
    op.drop_index("ix_label_ingests_pipeline_ingested_at", table_name="label_ingests")
    op.drop_table("label_ingests")
