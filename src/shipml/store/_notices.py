"""Notifications a sink could not deliver: kept in the store, taken back by the next run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipml.store._checks import check_count, check_text
from shipml.store._clock import utc_now
from shipml.store.schema import UndeliveredNotice


def keep(
    session: Session, pipeline: str, sink: str, payload: Mapping[str, Any], reason: str
) -> UndeliveredNotice:
    """Keep one undelivered notification."""
    notice = UndeliveredNotice(
        pipeline=check_text(pipeline, "pipeline", 200),
        sink=check_text(sink, "sink", 32),
        payload=dict(payload),
        reason=check_text(reason, "reason", 10_000, allow_empty=True),
        kept_at=utc_now(),
    )
    session.add(notice)
    return notice


def take(session: Session, pipeline: str, sink: str, limit: int) -> list[UndeliveredNotice]:
    """Remove and return the oldest kept notifications (locked: two takers never share one)."""
    query = (
        select(UndeliveredNotice)
        .where(UndeliveredNotice.pipeline == pipeline, UndeliveredNotice.sink == sink)
        .order_by(UndeliveredNotice.id)
        .limit(check_count(limit, "limit"))
        .with_for_update(skip_locked=True)
    )
    taken = list(session.scalars(query))
    for notice in taken:
        session.delete(notice)
    return taken


def count(session: Session, pipeline: str) -> int:
    """How many notifications of `pipeline` wait to be sent again."""
    query = select(UndeliveredNotice.id).where(UndeliveredNotice.pipeline == pipeline)
    return len(list(session.scalars(query)))
