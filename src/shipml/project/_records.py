"""Write what a flow did into the run store."""

from __future__ import annotations

import traceback

import pandas as pd

from shipml.errors import FlowFailed
from shipml.pipeline.runner import FlowResult
from shipml.store import RunStore


def record_flow(store: RunStore, run_id: str, result: FlowResult) -> None:
    """Store each step's timing and each boundary's report and quarantined rows."""
    for timing in result.steps:
        store.record_step(
            run_id,
            timing.step,
            timing.position,
            timing.started_at,
            timing.duration_s,
            timing.rows_in,
            timing.rows_out,
        )
    for boundary in result.boundaries:
        store.record_validation(
            run_id,
            boundary.boundary,
            boundary.report.model_dump(mode="json"),
            _by_row_number(boundary.quarantined) if len(boundary.quarantined) else None,
        )


def _by_row_number(quarantined: pd.DataFrame) -> pd.DataFrame:
    """Rows keep their input row number as index; a step that re-indexed loses it."""
    if pd.api.types.is_integer_dtype(quarantined.index):
        return quarantined
    return quarantined.reset_index(drop=True)


def record_failure(
    store: RunStore, run_id: str, error: BaseException, result: FlowResult
) -> tuple[FlowResult, str]:
    """Mark the run failed with its step, error and traceback; return what ran and the error."""
    if isinstance(error, FlowFailed):
        result, step, message, trace = error.result, error.step, str(error), error.traceback
    else:
        step = None
        message = f"{type(error).__name__}: {error}"
        trace = "".join(traceback.format_exception(error))
    record_flow(store, run_id, result)
    store.finish_run(
        run_id,
        status="failed",
        rows_in=result.rows_in,
        rows_valid=result.rows_valid,
        rows_invalid=result.rows_invalid,
        rows_quarantined=result.rows_quarantined,
        rows_out=0,
        error=message,
        traceback=trace,
        failed_step=step,
    )
    return result, message
