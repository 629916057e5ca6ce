"""RunStore: the persistence API for runs, validation, quarantine, profiles and alerts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pandas as pd
from alembic.runtime.migration import MigrationContext
from pydantic import BaseModel
from sqlalchemy import URL, Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shipml.store import _alerts, _labels, _moves, _notices, _profiles, _quarantine, _runs
from shipml.store._convert import to_record
from shipml.store._engine import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_STATEMENT_TIMEOUT,
    create_store_engine,
    display_url,
    store_faults,
    writer,
)
from shipml.store._migrate import VERSION_TABLE, head_revision, upgrade_to_head
from shipml.store.records import (
    AlertOutcome,
    AlertRecord,
    AliasMoveRecord,
    EngineKind,
    FinalStatus,
    LabelIngestRecord,
    MoveOutcome,
    MoveReason,
    ProfileRecord,
    RunDetail,
    RunKind,
    RunRecord,
    Severity,
    StepRecord,
    UndeliveredRecord,
)
from shipml.store.schema import Run

STORE_DIR = ".shipml"
STORE_FILE = "shipml.db"


class RunStore:
    """Runs, step timings, validation reports, quarantined rows, profiles and alerts.

    Every method runs in its own short transaction and returns frozen records.
    Opening a store brings its schema to the newest migration. A database that cannot be
    reached, does not answer within the timeouts (seconds), is read-only or damaged raises
    `StoreUnavailable` with one line naming the store (password masked) and the cause.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        migrate_on_open: bool = True,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
    ) -> None:
        self._url = url
        self._engine = create_store_engine(
            url, connect_timeout=connect_timeout, statement_timeout=statement_timeout
        )
        self._read = sessionmaker(self._engine, expire_on_commit=False)
        self._write = sessionmaker(writer(self._engine), expire_on_commit=False)
        if migrate_on_open:
            self.migrate()

    @classmethod
    def for_project(cls, project_dir: str | Path) -> RunStore:
        """The project's default store: a SQLite file in `<project>/.shipml/`."""
        directory = Path(project_dir) / STORE_DIR
        directory.mkdir(parents=True, exist_ok=True)
        return cls(URL.create("sqlite", database=str(directory / STORE_FILE)))

    @property
    def url(self) -> str:
        """The database URL, password masked."""
        return display_url(self._url)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tests and tools that inspect the schema)."""
        return self._engine

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision shipped with shipml (if it is behind).

        A store already at the newest revision is only read, so a read-only store can be read.
        """
        if self.schema_revision() == head_revision():
            return
        with store_faults(self._url, "open"):
            upgrade_to_head(writer(self._engine))

    def schema_revision(self) -> str | None:
        """The migration revision the database is at (None before the first migration)."""
        with store_faults(self._url, "open"), self._engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Runs

    def start_run(
        self,
        pipeline: str,
        kind: RunKind,
        *,
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        lineage: Mapping[str, Any] | None = None,
        engine: EngineKind = "local",
        trigger: str | None = None,
    ) -> str:
        """Record a run as started (status `running`) and return its id.

        `trigger` says what started it ("run", "scheduler", "airflow", ...).
        """
        with self._writing() as session:
            run = _runs.start_run(
                session,
                pipeline,
                kind,
                window_start=window_start,
                window_end=window_end,
                lineage=lineage or {},
                engine=engine,
                trigger=trigger,
            )
            return run.id

    def finish_run(
        self,
        run_id: str,
        *,
        status: FinalStatus,
        rows_in: int | None = None,
        rows_valid: int | None = None,
        rows_quarantined: int | None = None,
        rows_out: int | None = None,
        rows_invalid: int | None = None,
        output: str | None = None,
        error: str | None = None,
        traceback: str | None = None,
        failed_step: str | None = None,
        lineage: Mapping[str, Any] | None = None,
    ) -> RunRecord:
        """Record how a running run ended (and versions learnt meanwhile) and return it.

        `rows_invalid` counts rows that broke a contract (quarantined or not); left out, it is
        `rows_in - rows_valid`.
        """
        counts = {
            "rows_in": rows_in,
            "rows_valid": rows_valid,
            "rows_invalid": rows_invalid,
            "rows_quarantined": rows_quarantined,
            "rows_out": rows_out,
        }
        outcome = {
            "output": output,
            "error": error,
            "traceback": traceback,
            "failed_step": failed_step,
        }
        with self._writing() as session:
            run = _runs.finish_run(
                session, run_id, status=status, counts=counts, outcome=outcome, lineage=lineage
            )
            return to_record(RunRecord, run)

    def record_step(
        self,
        run_id: str,
        step: str,
        position: int,
        started_at: datetime,
        duration_s: float,
        rows_in: int | None = None,
        rows_out: int | None = None,
    ) -> None:
        """Record the timing and row counts of one step of a run."""
        with self._writing() as session:
            _runs.record_step(
                session,
                run_id,
                step=step,
                position=position,
                started_at=started_at,
                duration_s=duration_s,
                rows_in=rows_in,
                rows_out=rows_out,
            )

    def close_abandoned_runs(
        self, pipeline: str, reason: str, kind: RunKind = "batch"
    ) -> list[str]:
        """Mark failed every run of `pipeline` still `running`; their ids.

        Each gets the error "abandoned: attempt N `reason`". For whoever holds the pipeline's
        lock: a run still running then is one whose process died, or lost the store before
        it could record the end.
        """
        with self._writing() as session:
            running = session.scalars(
                select(Run).where(
                    Run.pipeline == pipeline, Run.kind == kind, Run.status == "running"
                )
            ).all()
            for run in running:
                error = f"abandoned: attempt {run.attempt} {reason}"
                _runs.finish_run(
                    session, run.id, status="failed", counts={}, outcome={"error": error}
                )
            return [run.id for run in running]

    def latest_window_run(
        self, pipeline: str, window_start: datetime, kind: RunKind = "batch"
    ) -> RunRecord | None:
        """The latest run of a window, e.g. to skip a finished one or retry a crashed one.

        A run whose process died stays `running`: the caller decides whether it is stale.
        """
        with self._reading() as session:
            run = _runs.latest_window_run(session, pipeline, window_start, kind)
            return None if run is None else to_record(RunRecord, run)

    def batch_resume_point(self, pipeline: str, trigger: str | None = None) -> datetime | None:
        """Where a pipeline's missed batch windows start: the end of the last window that
        succeeded, else the start of the first window tried (None before any batch run).
        With `trigger`, only the windows it started count (e.g. "scheduler").
        """
        with self._reading() as session:
            return _runs.batch_resume_point(session, pipeline, trigger)

    def has_batch_runs(self, pipeline: str) -> bool:
        """Whether any batch window of `pipeline` was ever run."""
        with self._reading() as session:
            return _runs.has_batch_runs(session, pipeline)

    def later_window_finished(
        self, pipeline: str, window_start: datetime, kind: RunKind = "batch"
    ) -> bool:
        """Whether a later window of the same kind already finished (succeeded or failed)."""
        with self._reading() as session:
            return _runs.later_window_finished(session, pipeline, kind, window_start)

    def latest_window_statuses(
        self, pipeline: str, start: datetime, end: datetime, kind: RunKind = "batch"
    ) -> dict[datetime, str]:
        """The status of the latest attempt of each window starting in [start, end]."""
        with self._reading() as session:
            return _runs.latest_window_statuses(session, pipeline, kind, start, end)

    def runs(
        self,
        limit: int = 20,
        pipeline: str | None = None,
        kind: RunKind | None = None,
        trigger: str | None = None,
    ) -> list[RunRecord]:
        """The most recent runs, newest first (optionally only those `trigger` started)."""
        with self._reading() as session:
            found = _runs.list_runs(
                session, limit=limit, pipeline=pipeline, kind=kind, trigger=trigger
            )
            return [to_record(RunRecord, run) for run in found]

    def run(self, run_id: str) -> RunDetail:
        """One run with its steps, validation reports, quarantine count and alerts."""
        with self._reading() as session:
            run = _runs.require_run(session, run_id)
            validations = tuple(_quarantine.validations_of(session, run_id))
            move = None
            if run.model_name and run.model_alias and run.model_version:
                found = _moves.behind(
                    session, run.model_name, run.model_alias, run.model_version, run.started_at
                )
                move = None if found is None else to_record(AliasMoveRecord, found)
            return RunDetail(
                run=to_record(RunRecord, run),
                steps=tuple(to_record(StepRecord, s) for s in _runs.steps_of(session, run_id)),
                validations=validations,
                quarantined_rows=sum(v.quarantined_rows for v in validations),
                alerts=tuple(
                    to_record(AlertRecord, a) for a in _alerts.alerts_of_run(session, run_id)
                ),
                alias_move=move,
            )

    # Validation and quarantine

    def record_validation(
        self,
        run_id: str,
        boundary: str,
        report: Mapping[str, Any] | BaseModel,
        quarantined: pd.DataFrame | None = None,
    ) -> None:
        """Store a boundary's validation report and its quarantined rows (one bulk insert).

        `quarantined` holds the invalid rows as received plus a `_reasons` column, indexed
        by row position. Values are stored as JSON: timestamps as ISO 8601 text, NaN/NA as
        null, infinities as "inf"/"-inf".
        """
        report_row = _quarantine.report_row(run_id, boundary, report)
        rows = []
        if quarantined is not None:
            rows = _quarantine.quarantine_rows(run_id, boundary, quarantined)
        with self._writing() as session:
            _runs.require_run(session, run_id)
            _quarantine.write(session, report_row, rows)

    def quarantined(self, run_id: str, boundary: str | None = None) -> pd.DataFrame:
        """A run's quarantined rows (JSON values), with `_reasons` and `_boundary` columns."""
        with self._reading() as session:
            _runs.require_run(session, run_id)
            return _quarantine.quarantined_frame(session, run_id, boundary)

    # Profiles

    def save_profile(
        self,
        pipeline: str,
        kind: str,
        name: str,
        payload: Mapping[str, Any],
        *,
        run_id: str | None = None,
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        model_name: str | None = None,
        model_version: str | None = None,
    ) -> ProfileRecord:
        """Store a profile (kind e.g. "batch", "online", "baseline"; name e.g. "features")."""
        profile = _profiles.new_profile(
            pipeline,
            kind,
            name,
            payload,
            run_id=run_id,
            window_start=window_start,
            window_end=window_end,
            model_name=model_name,
            model_version=model_version,
        )
        with self._writing() as session:
            if run_id is not None:
                _runs.require_run(session, run_id)
            session.add(profile)
            session.flush()
            return to_record(ProfileRecord, profile)

    def profiles(
        self,
        pipeline: str,
        kind: str,
        name: str,
        since: datetime | None = None,
        limit: int | None = None,
        before: datetime | None = None,
    ) -> list[ProfileRecord]:
        """Profiles, oldest window first; window starts in [since, before), `limit` the newest."""
        with self._reading() as session:
            found = _profiles.find_profiles(
                session, pipeline, kind, name, since=since, limit=limit, before=before
            )
            return [to_record(ProfileRecord, profile) for profile in found]

    def latest_baseline(
        self,
        pipeline: str,
        name: str,
        *,
        model_name: str | None = None,
        model_version: str | None = None,
    ) -> ProfileRecord | None:
        """The newest baseline profile `name`, optionally of one model (version)."""
        with self._reading() as session:
            found = _profiles.find_latest_baseline(
                session, pipeline, name, model_name=model_name, model_version=model_version
            )
            return None if found is None else to_record(ProfileRecord, found)

    # Alerts

    def open_alert(
        self,
        pipeline: str,
        rule: str,
        message: str,
        *,
        column: str | None = None,
        severity: Severity = "warning",
        value: float | None = None,
        threshold: float | None = None,
        run_id: str | None = None,
        window_start: datetime | None = None,
    ) -> AlertOutcome:
        """Open an alert, or refresh the open one for (pipeline, rule, column).

        A refresh bumps `occurrences` and updates value, message and last_seen_at;
        `is_new` tells which happened.
        """
        arguments = {
            "pipeline": pipeline,
            "rule": rule,
            "column": column,
            "message": message,
            "severity": severity,
            "value": value,
            "threshold": threshold,
            "run_id": run_id,
            "window_start": window_start,
        }
        try:
            return self._raise_alert(arguments)
        except IntegrityError:
            # Another process opened the same alert between our lookup and insert
            # (the partial unique index refused ours): now it exists, so refresh it.
            return self._raise_alert(arguments)

    def close_alert(self, alert_id: int) -> AlertRecord:
        """Close an alert by id and return it."""
        with self._writing() as session:
            alert = _alerts.close(session, _alerts.require_alert(session, alert_id))
            return to_record(AlertRecord, alert)

    def close_open_alert(
        self,
        pipeline: str,
        rule: str,
        column: str | None = None,
        *,
        window_start: datetime | None = None,
    ) -> AlertRecord | None:
        """Close the open alert of (pipeline, rule, column), if any; `window_start` cleared it."""
        with self._writing() as session:
            alert = _alerts.find_open(session, pipeline, rule, column)
            if alert is None:
                return None
            return to_record(AlertRecord, _alerts.close(session, alert, window_start))

    def alerts(
        self, status: str | None = None, limit: int = 50, pipeline: str | None = None
    ) -> list[AlertRecord]:
        """Alerts, most recently seen first, optionally only "open" or "closed" ones."""
        with self._reading() as session:
            found = _alerts.find_alerts(session, status=status, pipeline=pipeline, limit=limit)
            return [to_record(AlertRecord, alert) for alert in found]

    # Notifications not delivered

    def keep_undelivered(
        self, pipeline: str, sink: str, payload: Mapping[str, Any], reason: str
    ) -> None:
        """Keep a notification `sink` could not deliver, for a later run to send again."""
        with self._writing() as session:
            _notices.keep(session, pipeline, sink, payload, reason)

    def take_undelivered(
        self, pipeline: str, sink: str, limit: int = 1000
    ) -> list[UndeliveredRecord]:
        """Remove and return the oldest kept notifications of `pipeline` for `sink`."""
        with self._writing() as session:
            taken = _notices.take(session, pipeline, sink, limit)
            return [to_record(UndeliveredRecord, notice) for notice in taken]

    def undelivered_count(self, pipeline: str) -> int:
        """How many notifications of `pipeline` wait to be sent again."""
        with self._reading() as session:
            return _notices.count(session, pipeline)

    def record_label_ingest(
        self,
        pipeline: str,
        range_start: datetime,
        range_end: datetime,
        counts: Mapping[str, int],
        details: Mapping[str, Any],
    ) -> LabelIngestRecord:
        """Keep one label ingest's exact counts (`_labels.COUNTS`) and details."""
        with self._writing() as session:
            ingest = _labels.record(session, pipeline, range_start, range_end, counts, details)
            session.flush()
            return to_record(LabelIngestRecord, ingest)

    def label_ingests(self, pipeline: str, limit: int = 20) -> list[LabelIngestRecord]:
        """The newest label ingests of `pipeline`, newest first."""
        with self._reading() as session:
            return [
                to_record(LabelIngestRecord, i) for i in _labels.latest(session, pipeline, limit)
            ]

    # Alias moves

    def record_alias_move(
        self,
        pipeline: str,
        model_name: str,
        alias: str,
        *,
        from_version: str | None,
        to_version: str,
        outcome: MoveOutcome,
        reason: MoveReason,
        moved_by: str,
        forced: bool = False,
        gate: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        note: str | None = None,
    ) -> AliasMoveRecord:
        """Record a move of `alias` (outcome "moved"), or one the gate refused ("refused").

        `gate` is the promotion gate's verdict as JSON (None when no gate ran).
        """
        with self._writing() as session:
            if run_id is not None:
                _runs.require_run(session, run_id)
            move = _moves.record(
                session,
                pipeline=pipeline,
                model_name=model_name,
                alias=alias,
                from_version=from_version,
                to_version=to_version,
                outcome=outcome,
                reason=reason,
                forced=forced,
                gate=gate,
                moved_by=moved_by,
                run_id=run_id,
                note=note,
            )
            return to_record(AliasMoveRecord, move)

    def alias_moves(
        self, model_name: str, alias: str | None = None, limit: int | None = 100
    ) -> list[AliasMoveRecord]:
        """The recorded moves of a model's aliases (or of one), newest first."""
        with self._reading() as session:
            found = _moves.find(session, model_name, alias, limit)
            return [to_record(AliasMoveRecord, move) for move in found]

    def alias_move_behind(
        self, model_name: str, alias: str, version: str, at: datetime
    ) -> AliasMoveRecord | None:
        """The move that had put `alias` on `version` at `at`: a run's lineage to its model."""
        with self._reading() as session:
            found = _moves.behind(session, model_name, alias, version, at)
            return None if found is None else to_record(AliasMoveRecord, found)

    # Sessions

    def _raise_alert(self, arguments: dict[str, Any]) -> AlertOutcome:
        with self._writing() as session:
            if arguments["run_id"] is not None:
                _runs.require_run(session, arguments["run_id"])
            alert, is_new = _alerts.raise_alert(session, **arguments)
            session.flush()
            return AlertOutcome(alert=to_record(AlertRecord, alert), is_new=is_new)

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with store_faults(self._url), self._write() as session, session.begin():
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with store_faults(self._url), self._read() as session, session.begin():
            yield session
