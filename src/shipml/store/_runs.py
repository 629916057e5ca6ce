"""Run lifecycle: start, finish, step timings and queries, within a caller's session."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shipml.errors import RunNotFound, StoreError
from shipml.store._checks import check_choice, check_count, check_optional_text, check_text
from shipml.store._clock import to_utc, to_utc_or_none, utc_now
from shipml.store.records import LINEAGE_KEYS
from shipml.store.schema import Run, StepRun

RUN_KINDS = ("train", "batch", "online")
FINAL_STATUSES = ("succeeded", "failed", "skipped")
ENGINES = ("local", "dask")


def start_run(
    session: Session,
    pipeline: str,
    kind: str,
    *,
    window_start: datetime | None,
    window_end: datetime | None,
    lineage: Mapping[str, Any],
    engine: str,
    trigger: str | None = None,
) -> Run:
    """Insert a run in status `running`; its attempt counts earlier runs of the same window."""
    run = Run(
        id=uuid.uuid4().hex,
        pipeline=check_text(pipeline, "pipeline", 200),
        kind=check_choice(kind, RUN_KINDS, "run kind"),
        status="running",
        window_start=to_utc_or_none(window_start, "window_start"),
        window_end=to_utc_or_none(window_end, "window_end"),
        started_at=utc_now(),
        engine=check_choice(engine, ENGINES, "engine"),
        trigger=check_optional_text(trigger, "trigger", 16),
        **_lineage_columns(lineage),
    )
    run.attempt = 1 + _earlier_attempts(session, run)
    session.add(run)
    return run


def finish_run(
    session: Session,
    run_id: str,
    *,
    status: str,
    counts: Mapping[str, int | None],
    outcome: Mapping[str, str | None],
    lineage: Mapping[str, Any] | None = None,
) -> Run:
    """Record how a running run ended; row counts and outcome fields left None stay unset.

    `lineage` adds versions learnt while the run went on (the data version, once read).
    Without `rows_invalid`, it is what `rows_in` and `rows_valid` leave: in = valid + invalid.
    """
    run = require_run(session, run_id)
    check_choice(status, FINAL_STATUSES, "final run status")
    if run.status != "running":
        raise StoreError(f"run {run_id} already finished with status {run.status!r}")
    run.status = status
    run.finished_at = utc_now()
    for name, value in counts.items():
        if value is not None:
            setattr(run, name, check_count(value, name))
    if (
        counts.get("rows_invalid") is None
        and run.rows_in is not None
        and run.rows_valid is not None
    ):
        run.rows_invalid = max(run.rows_in - run.rows_valid, 0)
    for name, text in outcome.items():
        if text is not None:
            setattr(run, name, check_text(text, name, _max_length(name), allow_empty=True))
    for name, value in _lineage_columns(lineage or {}).items():
        if value is not None:
            setattr(run, name, value)
    return run


def record_step(
    session: Session,
    run_id: str,
    *,
    step: str,
    position: int,
    started_at: datetime,
    duration_s: float,
    rows_in: int | None,
    rows_out: int | None,
) -> None:
    """Add the timing and row counts of one step to a run."""
    require_run(session, run_id)
    if duration_s < 0:
        raise ValueError(f"duration_s must be >= 0, got {duration_s!r}")
    session.add(
        StepRun(
            run_id=run_id,
            step=check_text(step, "step", 200),
            position=check_count(position, "position"),
            started_at=to_utc(started_at, "started_at"),
            duration_s=float(duration_s),
            rows_in=check_count(rows_in, "rows_in"),
            rows_out=check_count(rows_out, "rows_out"),
        )
    )


def require_run(session: Session, run_id: str) -> Run:
    """The run with id `run_id`, or RunNotFound."""
    run = session.get(Run, run_id)
    if run is None:
        raise RunNotFound(f"no run with id {run_id!r}")
    return run


def latest_window_run(
    session: Session, pipeline: str, window_start: datetime, kind: str
) -> Run | None:
    """The most recent run of one window of a pipeline, whatever its status."""
    query = (
        select(Run)
        .where(
            Run.pipeline == pipeline,
            Run.kind == check_choice(kind, RUN_KINDS, "run kind"),
            Run.window_start == to_utc(window_start, "window_start"),
        )
        .order_by(Run.attempt.desc(), Run.started_at.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def batch_resume_point(
    session: Session, pipeline: str, trigger: str | None = None
) -> datetime | None:
    """The end of the last window that succeeded, else the start of the first one tried.

    With `trigger`, only the runs it started count (e.g. the scheduler's own windows).
    """
    batch = [Run.pipeline == pipeline, Run.kind == "batch", Run.window_start.is_not(None)]
    if trigger is not None:
        batch.append(Run.trigger == trigger)
    last_success = (
        select(Run.window_end)
        .where(*batch, Run.status == "succeeded")
        .order_by(Run.window_start.desc())
        .limit(1)
    )
    first_tried = select(Run.window_start).where(*batch).order_by(Run.window_start).limit(1)
    found = session.execute(last_success).scalar_one_or_none()
    return found or session.execute(first_tried).scalar_one_or_none()


def has_batch_runs(session: Session, pipeline: str) -> bool:
    """Whether any batch window of `pipeline` was ever run."""
    query = select(Run.id).where(Run.pipeline == pipeline, Run.kind == "batch").limit(1)
    return session.scalars(query).first() is not None


def later_window_finished(
    session: Session, pipeline: str, kind: str, window_start: datetime
) -> bool:
    """Whether a window of `kind` after `window_start` already finished (succeeded or failed)."""
    query = select(Run.id).where(
        Run.pipeline == pipeline,
        Run.kind == check_choice(kind, RUN_KINDS, "run kind"),
        Run.window_start > to_utc(window_start, "window_start"),
        Run.status.in_(("succeeded", "failed")),
    )
    return session.scalars(query.limit(1)).first() is not None


def latest_window_statuses(
    session: Session, pipeline: str, kind: str, start: datetime, end: datetime
) -> dict[datetime, str]:
    """The status of the latest attempt of each window starting in [start, end]."""
    query = (
        select(Run.window_start, Run.status)
        .where(
            Run.pipeline == pipeline,
            Run.kind == check_choice(kind, RUN_KINDS, "run kind"),
            Run.window_start >= to_utc(start, "start"),
            Run.window_start <= to_utc(end, "end"),
        )
        .order_by(Run.window_start, Run.attempt, Run.started_at)
    )
    return {
        to_utc(when, "window_start"): status
        for when, status in session.execute(query)
        if when is not None
    }


def list_runs(
    session: Session,
    *,
    limit: int,
    pipeline: str | None,
    kind: str | None,
    trigger: str | None = None,
) -> list[Run]:
    """The most recent runs first, optionally of one pipeline, kind and/or trigger."""
    query = select(Run).order_by(Run.started_at.desc()).limit(check_count(limit, "limit"))
    if trigger is not None:
        query = query.where(Run.trigger == trigger)
    if pipeline is not None:
        query = query.where(Run.pipeline == pipeline)
    if kind is not None:
        query = query.where(Run.kind == check_choice(kind, RUN_KINDS, "run kind"))
    return list(session.scalars(query))


def steps_of(session: Session, run_id: str) -> list[StepRun]:
    """The steps of a run in pipeline order."""
    query = select(StepRun).where(StepRun.run_id == run_id)
    return list(session.scalars(query.order_by(StepRun.position, StepRun.id)))


def _earlier_attempts(session: Session, run: Run) -> int:
    if run.window_start is None:
        return 0
    query = select(func.count()).where(
        Run.pipeline == run.pipeline,
        Run.kind == run.kind,
        Run.window_start == run.window_start,
    )
    return session.scalar(query) or 0


def _lineage_columns(lineage: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(lineage) - LINEAGE_KEYS)
    if unknown:
        raise ValueError(f"unknown lineage keys {unknown}; expected some of {sorted(LINEAGE_KEYS)}")
    columns: dict[str, Any] = {}
    for key, value in lineage.items():
        if key == "git_dirty":
            if value is not None and not isinstance(value, bool):
                raise ValueError(f"lineage git_dirty must be True, False or None, got {value!r}")
            columns[key] = value
        else:
            text = None if value is None else str(value)
            columns[key] = check_optional_text(text, f"lineage {key}", _max_length(key))
    return columns


def _max_length(column: str) -> int:
    """The length limit of a string column of `runs` (PostgreSQL enforces it, SQLite not)."""
    length = getattr(Run.__table__.c[column].type, "length", None)
    return length if length is not None else 1_000_000_000
