"""The batch-window function: the one entry point every orchestrator calls.

`run_window(project, window)` reads the window's input, runs the batch flow, writes the
output atomically and records the run. A finished window is not run again unless forced;
a window whose earlier attempt crashed or failed is redone and leaves exactly one output.
Callers run one window at a time per pipeline (`shipml run` and the scheduler hold the
pipeline's lock; Airflow runs a window's task once at a time): an earlier attempt still
marked running when its window starts again is one whose process died.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from shipml.errors import CriticalAlert, WindowFailed
from shipml.pipeline.runner import FlowResult, StepObserver
from shipml.project._records import record_failure, record_flow
from shipml.project.baselines import ModelBaselines
from shipml.project.engines import Engine, LocalEngine
from shipml.project.engines.window import WindowJob, score_window
from shipml.project.observe import observe_window
from shipml.project.project import Project
from shipml.store import RunRecord, RunStore
from shipml.versioning.tracking import LoadedModel
from shipml.windows import Window

log = logging.getLogger(__name__)

WindowStatus = Literal["succeeded", "failed", "skipped"]
MODEL_VERSION_COLUMN = "model_version"


@dataclass(frozen=True)
class WindowOutcome:
    """How one batch window ended."""

    window: Window
    status: WindowStatus
    run_id: str | None
    output: str | None = None
    rows_in: int = 0
    rows_valid: int = 0
    rows_quarantined: int = 0
    rows_out: int = 0
    model_version: str | None = None
    error: str | None = None
    alerts: tuple[str, ...] = ()  # the messages of the alerts this window raised
    critical: bool = False


def run_window(
    project: Project,
    window: Window,
    *,
    force: bool = False,
    model: LoadedModel | None = None,
    on_step: StepObserver | None = None,
    engine: Engine | None = None,
) -> WindowOutcome:
    """Run `project`'s batch flow for `window`; raise `WindowFailed` when it fails.

    `engine` runs the flow (default: in this process); every engine gives the same result.
    """
    engine = engine or LocalEngine()
    store = project.store
    earlier = store.latest_window_run(project.name, window.start)
    if earlier is not None and earlier.status == "succeeded" and not force:
        return WindowOutcome(
            window, "skipped", earlier.id, earlier.output, rows_out=earlier.rows_out or 0
        )
    if earlier is not None and earlier.status == "running":
        _close_abandoned(store, earlier)
    model = model or project.tracker.load(project.settings.model.alias)
    baselines = ModelBaselines.from_json(model.baseline)
    run_id = store.start_run(
        project.name,
        "batch",
        window_start=window.start,
        window_end=window.end,
        lineage=project.lineage(
            model_name=model.ref.name, model_version=model.ref.version, model_alias=model.ref.alias
        ),
        engine=engine.name,
    )
    result = FlowResult()
    try:
        job = WindowJob(
            project.pipeline.batch,
            window,
            run_id,
            project.name,
            project.source() if project.pipeline.ingest is None else None,
            project.sink(),
            context={"model": model.model, "window": window},
            policies=project.policies(),
            baselines=baselines,
            output_columns={MODEL_VERSION_COLUMN: model.ref.version},
            on_step=on_step,
        )
        scored = score_window(engine, job)
        result = scored.result
        observation = observe_window(project, run_id, window, model, result, scored.profile)
        location = scored.commit()
    except Exception as error:
        result, message = record_failure(store, run_id, error, result)
        outcome = _failed(window, run_id, result, message, model.ref.version)
        raise WindowFailed(outcome, error) from error
    record_flow(store, run_id, result)
    store.finish_run(
        run_id,
        status="succeeded",
        rows_in=result.rows_in,
        rows_valid=result.rows_valid,
        rows_quarantined=result.rows_quarantined,
        rows_out=scored.rows_out,
        output=location,
        lineage={"data_version": scored.data_version},
    )
    outcome = WindowOutcome(
        window,
        "succeeded",
        run_id,
        location,
        result.rows_in,
        result.rows_valid,
        result.rows_quarantined,
        scored.rows_out,
        model.ref.version,
        alerts=tuple(a.alert.message for a in observation.alerts) if observation else (),
        critical=bool(observation and observation.critical),
    )
    if outcome.critical and project.settings.monitoring.fail_on_critical:
        raise CriticalAlert(outcome)
    return outcome


def _close_abandoned(store: RunStore, earlier: RunRecord) -> None:
    """Mark an attempt whose process died as failed, so that `shipml runs` tells the truth."""
    store.finish_run(
        earlier.id,
        status="failed",
        error=(
            f"abandoned: attempt {earlier.attempt} was still marked running when the window "
            "was run again (its process died)"
        ),
    )
    log.warning(
        "run %s of window %s was abandoned by its process; marked failed",
        earlier.id,
        earlier.window_start,
    )


def _failed(
    window: Window, run_id: str, result: FlowResult, message: str, version: str
) -> WindowOutcome:
    return WindowOutcome(
        window,
        "failed",
        run_id,
        rows_in=result.rows_in,
        rows_valid=result.rows_valid,
        rows_quarantined=result.rows_quarantined,
        model_version=version,
        error=message,
    )
