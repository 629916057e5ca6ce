"""Monitoring profiles: per-window summaries and training baselines."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shipml.store._checks import check_count, check_optional_text, check_text
from shipml.store._clock import to_utc_or_none, utc_now
from shipml.store._json import json_safe
from shipml.store.schema import Profile

BASELINE_KIND = "baseline"


def new_profile(
    pipeline: str,
    kind: str,
    name: str,
    payload: Mapping[str, Any],
    *,
    run_id: str | None,
    window_start: datetime | None,
    window_end: datetime | None,
    model_name: str | None,
    model_version: str | None,
) -> Profile:
    """A checked, JSON-safe profile row ready to add to a session."""
    if not isinstance(payload, Mapping):
        raise TypeError(f"profile payload must be a mapping, got {type(payload).__name__}")
    version = None if model_version is None else str(model_version)  # MLflow may give an int
    return Profile(
        run_id=run_id,
        pipeline=check_text(pipeline, "pipeline", 200),
        kind=check_text(kind, "profile kind", 32),
        name=check_text(name, "profile name", 100),
        window_start=to_utc_or_none(window_start, "window_start"),
        window_end=to_utc_or_none(window_end, "window_end"),
        model_name=check_optional_text(model_name, "model_name", 200),
        model_version=check_optional_text(version, "model_version", 64),
        payload=json_safe(payload),
        created_at=utc_now(),
    )


def find_profiles(
    session: Session,
    pipeline: str,
    kind: str,
    name: str,
    *,
    since: datetime | None,
    limit: int | None,
    before: datetime | None = None,
) -> list[Profile]:
    """Profiles in window order (oldest first); with `limit`, only the most recent ones.

    `since` and `before` bound the window start: since <= start < before.
    """
    when = func.coalesce(Profile.window_start, Profile.created_at)
    query = select(Profile).where(
        Profile.pipeline == pipeline, Profile.kind == kind, Profile.name == name
    )
    since_utc = to_utc_or_none(since, "since")
    if since_utc is not None:
        query = query.where(when >= since_utc)
    before_utc = to_utc_or_none(before, "before")
    if before_utc is not None:
        query = query.where(when < before_utc)
    query = query.order_by(when.desc(), Profile.id.desc())
    if limit is not None:
        query = query.limit(check_count(limit, "limit"))
    return list(reversed(session.scalars(query).all()))


def find_latest_baseline(
    session: Session,
    pipeline: str,
    name: str,
    *,
    model_name: str | None,
    model_version: str | None,
) -> Profile | None:
    """The newest baseline profile, optionally of one model (version)."""
    query = select(Profile).where(
        Profile.pipeline == pipeline, Profile.kind == BASELINE_KIND, Profile.name == name
    )
    if model_name is not None:
        query = query.where(Profile.model_name == model_name)
    if model_version is not None:
        query = query.where(Profile.model_version == str(model_version))
    query = query.order_by(Profile.created_at.desc(), Profile.id.desc()).limit(1)
    return session.scalars(query).first()
