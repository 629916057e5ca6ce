"""Failed windows: why a window failed, in one line, and which windows of a pipeline failed.

The reason is what a person on call should read first: the validation's diagnoses (a
renamed column, American dates, a null rate far above training) when a contract was
broken, else the rule failures, else the error's first line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shipml.errors import ContractViolation, FlowFailed
from shipml.store import RunRecord, RunStore, ValidationRecord

_MAX_REASONS = 3
_SCAN_RUNS = 100_000


@dataclass(frozen=True)
class FailedWindow:
    """A window whose latest attempt failed, with the reason and its true row counts."""

    kind: str
    start: datetime
    end: datetime | None
    run_id: str
    reason: str
    failed_step: str | None
    rows_in: int | None
    rows_valid: int | None
    rows_invalid: int | None


def failure_reason(error: BaseException) -> str:
    """One line on why a flow failed, from the error it raised."""
    where = ""
    cause = error
    if isinstance(error, FlowFailed):
        cause = error.error
        where = f" at {error.boundary or error.step}"
    if isinstance(cause, ContractViolation):
        report = cause.report
        head = f"{report.invalid_rows} of {report.rows} rows invalid{where}"
        return _joined(head, _report_reasons(report.model_dump(mode="json")))
    return _first_line(f"{type(cause).__name__}: {cause}") + where


def stored_reason(run: RunRecord, validations: Sequence[ValidationRecord]) -> str:
    """One line on why a stored run failed, from its validation reports or its error."""
    for validation in validations:
        if not validation.ok and validation.invalid_rows:
            head = (
                f"{validation.invalid_rows} of {validation.rows} rows invalid at "
                f"{validation.boundary}"
            )
            return _joined(head, _report_reasons(validation.report))
    return _first_line(run.error or "failed (no error recorded)")


def failed_windows(
    store: RunStore,
    pipeline: str,
    *,
    since: datetime | None = None,
    kinds: Iterable[str] = ("batch", "online"),
    limit: int | None = None,
) -> list[FailedWindow]:
    """Windows whose latest attempt failed, oldest first (the newest `limit` of them)."""
    found: list[FailedWindow] = []
    for kind in kinds:
        latest: dict[datetime, RunRecord] = {}
        for run in store.runs(limit=_SCAN_RUNS, pipeline=pipeline, kind=kind):  # type: ignore[arg-type]
            if run.window_start is None or (since is not None and run.window_start < since):
                continue
            known = latest.get(run.window_start)
            if known is None or (run.attempt, run.started_at) > (known.attempt, known.started_at):
                latest[run.window_start] = run
        for start, run in latest.items():
            if run.status != "failed":
                continue
            detail = store.run(run.id)
            found.append(
                FailedWindow(
                    kind=kind,
                    start=start,
                    end=run.window_end,
                    run_id=run.id,
                    reason=stored_reason(run, detail.validations),
                    failed_step=run.failed_step,
                    rows_in=run.rows_in,
                    rows_valid=run.rows_valid,
                    rows_invalid=run.rows_invalid,
                )
            )
    found.sort(key=lambda window: (window.start, window.kind))
    return found if limit is None else found[-limit:]


def _report_reasons(report: dict[str, Any]) -> list[str]:
    diagnoses = [str(d["message"]) for d in report.get("diagnoses", [])]
    if diagnoses:
        return diagnoses[:_MAX_REASONS]
    return [
        f"{f['column']}: {f['message']} ({f['count']} rows)"
        for f in report.get("failures", [])[:_MAX_REASONS]
    ]


def _joined(head: str, reasons: list[str]) -> str:
    return f"{head}: {'; '.join(reasons)}" if reasons else head


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
