"""What the store hands back: frozen records, detached from any database session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypedDict

RunKind = Literal["train", "batch", "online"]
RunStatus = Literal["running", "succeeded", "failed", "skipped"]
FinalStatus = Literal["succeeded", "failed", "skipped"]
EngineKind = Literal["local", "dask"]
Severity = Literal["info", "warning", "critical"]
AlertStatus = Literal["open", "closed"]
MoveOutcome = Literal["moved", "refused"]
MoveReason = Literal["manual", "rollback", "retraining"]


class Lineage(TypedDict, total=False):
    """The versions that produced a run; every key is optional."""

    git_commit: str
    git_dirty: bool
    data_version: str
    config_hash: str
    model_name: str
    model_version: str
    model_alias: str
    shipml_version: str


LINEAGE_KEYS: frozenset[str] = frozenset(Lineage.__annotations__)


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run as stored: identity, window, outcome, row counts and lineage."""

    id: str
    pipeline: str
    kind: RunKind
    status: RunStatus
    window_start: datetime | None
    window_end: datetime | None
    started_at: datetime
    finished_at: datetime | None
    rows_in: int | None
    rows_valid: int | None
    rows_quarantined: int | None
    rows_out: int | None
    error: str | None
    traceback: str | None
    failed_step: str | None
    output: str | None
    git_commit: str | None
    git_dirty: bool | None
    data_version: str | None
    config_hash: str | None
    model_name: str | None
    model_version: str | None
    model_alias: str | None
    shipml_version: str | None
    attempt: int
    engine: EngineKind
    rows_invalid: int | None = None  # rows that broke a contract: rows_in = valid + invalid
    trigger: str | None = None  # what started it: "run", "scheduler", "airflow", ...

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to finish, None while running."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class StepRecord:
    """Timing and row counts of one step of a run."""

    step: str
    position: int
    started_at: datetime
    duration_s: float
    rows_in: int | None
    rows_out: int | None


@dataclass(frozen=True, slots=True)
class ValidationRecord:
    """The validation outcome of one boundary of a run."""

    boundary: str
    ok: bool
    rows: int
    invalid_rows: int
    quarantined_rows: int
    report: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert, open or closed."""

    id: int
    pipeline: str
    rule: str
    column: str | None
    run_id: str | None
    window_start: datetime | None
    value: float | None
    threshold: float | None
    severity: Severity
    status: AlertStatus
    message: str
    opened_at: datetime
    closed_at: datetime | None
    last_seen_at: datetime
    occurrences: int
    first_window_start: datetime | None = None  # the first window that raised it
    closed_window_start: datetime | None = None  # the window that cleared it


@dataclass(frozen=True, slots=True)
class UndeliveredRecord:
    """A notification a sink could not deliver, kept for the next run to send again."""

    id: int
    pipeline: str
    sink: str
    payload: dict[str, Any]
    reason: str
    kept_at: datetime


@dataclass(frozen=True, slots=True)
class LabelIngestRecord:
    """One `shipml labels ingest` and its exact counts (see `shipml.project.labels`)."""

    id: int
    pipeline: str
    ingested_at: datetime
    range_start: datetime
    range_end: datetime
    labels_read: int
    matched: int
    unmatched: int
    duplicates: int
    invalid: int
    overdue: int
    predictions: int
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """The result of raising an alert: the alert and whether it was newly opened."""

    alert: AlertRecord
    is_new: bool


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run with its steps, validation reports, quarantine count and alerts."""

    run: RunRecord
    steps: tuple[StepRecord, ...]
    validations: tuple[ValidationRecord, ...]
    quarantined_rows: int
    alerts: tuple[AlertRecord, ...]
    alias_move: AliasMoveRecord | None = None  # the move that had put its model version there


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    """A stored monitoring profile (a window's summary or a training baseline)."""

    id: int
    run_id: str | None
    pipeline: str
    kind: str
    name: str
    window_start: datetime | None
    window_end: datetime | None
    model_name: str | None
    model_version: str | None
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AliasMoveRecord:
    """One recorded alias move (or a move the promotion gate refused)."""

    id: int
    pipeline: str
    model_name: str
    alias: str
    from_version: str | None
    to_version: str
    outcome: MoveOutcome
    reason: MoveReason
    forced: bool
    gate_passed: bool | None  # None: no gate ran (a rollback, or no champion to compare)
    gate: dict[str, Any] | None  # the gate's verdict and comparison table
    moved_by: str  # user@host
    moved_at: datetime
    run_id: str | None  # the run that asked for it (an automatic retraining's train run)
    note: str | None
