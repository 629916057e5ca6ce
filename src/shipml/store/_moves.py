"""Alias moves: every move of a registry alias, and the moves the promotion gate refused."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipml.store._checks import check_choice, check_count, check_optional_text, check_text
from shipml.store._clock import to_utc, utc_now
from shipml.store.schema import AliasMove

OUTCOMES = ("moved", "refused")
REASONS = ("manual", "rollback", "retraining")


def record(
    session: Session,
    *,
    pipeline: str,
    model_name: str,
    alias: str,
    from_version: str | None,
    to_version: str,
    outcome: str,
    reason: str,
    forced: bool,
    gate: Mapping[str, Any] | None,
    moved_by: str,
    run_id: str | None,
    note: str | None,
) -> AliasMove:
    """Add one move."""
    move = AliasMove(
        pipeline=check_text(pipeline, "pipeline", 200),
        model_name=check_text(model_name, "model_name", 200),
        alias=check_text(alias, "alias", 64),
        from_version=check_optional_text(from_version, "from_version", 64),
        to_version=check_text(to_version, "to_version", 64),
        outcome=check_choice(outcome, OUTCOMES, "outcome"),
        reason=check_choice(reason, REASONS, "reason"),
        forced=bool(forced),
        gate_passed=None if gate is None else bool(gate.get("passed")),
        gate=None if gate is None else dict(gate),
        moved_by=check_text(moved_by, "moved_by", 200),
        moved_at=utc_now(),
        run_id=run_id,
        note=check_optional_text(note, "note", 10_000),
    )
    session.add(move)
    session.flush()
    return move


def find(
    session: Session, model_name: str, alias: str | None, limit: int | None
) -> list[AliasMove]:
    """Moves of `model_name` (of one alias), newest first."""
    query = select(AliasMove).where(AliasMove.model_name == model_name)
    if alias is not None:
        query = query.where(AliasMove.alias == alias)
    query = query.order_by(AliasMove.moved_at.desc(), AliasMove.id.desc())
    if limit is not None:
        query = query.limit(check_count(limit, "limit"))
    return list(session.scalars(query))


def behind(
    session: Session, model_name: str, alias: str, version: str, at: datetime
) -> AliasMove | None:
    """The move that had put `alias` on `version` at time `at` (None if none is recorded)."""
    query = (
        select(AliasMove)
        .where(
            AliasMove.model_name == model_name,
            AliasMove.alias == alias,
            AliasMove.outcome == "moved",
            AliasMove.moved_at <= to_utc(at, "at"),
        )
        .order_by(AliasMove.moved_at.desc(), AliasMove.id.desc())
        .limit(1)
    )
    latest = session.scalars(query).first()
    return latest if latest is not None and latest.to_version == version else None
