"""Label ingests: one row per `shipml labels ingest` with its exact counts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipml.store._checks import check_count, check_text
from shipml.store._clock import utc_now
from shipml.store.schema import LabelIngest

COUNTS = ("labels_read", "matched", "unmatched", "duplicates", "invalid", "overdue", "predictions")


def record(
    session: Session,
    pipeline: str,
    range_start: datetime,
    range_end: datetime,
    counts: Mapping[str, int],
    details: Mapping[str, Any],
) -> LabelIngest:
    """Add one ingest's row."""
    ingest = LabelIngest(
        pipeline=check_text(pipeline, "pipeline", 200),
        ingested_at=utc_now(),
        range_start=range_start,
        range_end=range_end,
        details=dict(details),
        **{name: check_count(int(counts[name]), name) for name in COUNTS},
    )
    session.add(ingest)
    return ingest


def latest(session: Session, pipeline: str, limit: int) -> list[LabelIngest]:
    """The newest ingests of `pipeline`, newest first."""
    query = (
        select(LabelIngest)
        .where(LabelIngest.pipeline == pipeline)
        .order_by(LabelIngest.id.desc())
        .limit(check_count(limit, "limit"))
    )
    return list(session.scalars(query))
