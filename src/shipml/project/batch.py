"""The batch-window function: the one entry point every orchestrator calls.

`run_window(project, window)` reads the window's input, runs the batch flow, writes the
output atomically and records the run. A finished window is not run again unless forced;
a window whose earlier attempt crashed or failed is redone and leaves exactly one output.
Callers run one window at a time per pipeline (`shipml run` and the scheduler hold the
pipeline's lock; Airflow runs a window's task once at a time): an earlier attempt still
marked running when its window starts again is one whose process died.

A failed window is an event: it raises the critical `window_failed` alert (missing input
excepted: the orchestrator alerts on it once its retries are spent), which the next window
that succeeds closes. Alert state goes by window time: a window older than one that already
ran (a re-run, a backfill) records its findings but changes no alert and pages nobody; its
outcome holds what it found (`held`) for the caller's one summary. A window that succeeded
is scored by the challenger too, into an output of its own, when so configured
(`shipml.project.challenger`).

With a `[labels]` table, every prediction of a window is kept with its key in the prediction
log (`shipml.project.predictions`), committed with the output on either engine (the Dask
engine's workers write their partitions' part of it); with no `[labels] key`, the output
and the log carry the same generated `prediction_id`s, whatever the engine.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Literal, cast

from shipml.alerting.windows import (
    WINDOW_FAILED,
    HeldFinding,
    clear_failure,
    clear_missing_input,
    is_past,
    raise_failure,
)
from shipml.errors import CriticalAlert, MissingInput, WindowFailed
from shipml.pipeline.runner import FlowResult, StepObserver
from shipml.project._records import record_failure, record_flow
from shipml.project.baselines import ModelBaselines
from shipml.project.challenger import ChallengerOutput, score_challenger
from shipml.project.engines import Engine, LocalEngine, ScoredWindow, WindowJob, score_window
from shipml.project.failures import failure_reason
from shipml.project.observe import observe_window
from shipml.project.predictions import WindowLog
from shipml.project.project import Project
from shipml.store import EngineKind, RunRecord, RunStore
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
    rows_invalid: int = 0  # rows that broke a contract: rows_in = rows_valid + rows_invalid
    reason: str | None = None  # why it failed, in one line
    past: bool = False  # a later window had already run: no alert changed, nobody paged
    held: tuple[HeldFinding, ...] = ()  # what a past window would have raised
    missing_input: bool = False  # failed because its input is not there (yet)
    challenger: ChallengerOutput | None = None  # scored by the challenger too (opt-in)


def run_window(
    project: Project,
    window: Window,
    *,
    force: bool = False,
    model: LoadedModel | None = None,
    on_step: StepObserver | None = None,
    engine: Engine | None = None,
    trigger: str = "run",
) -> WindowOutcome:
    """Run `project`'s batch flow for `window`; raise `WindowFailed` when it fails.

    `engine` runs the flow (default: in this process); every engine gives the same result.
    `trigger` names what started it ("run", "scheduler", "airflow"), kept with the run.
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
    past = is_past(store, project.name, window.start, "batch")
    run_id = store.start_run(
        project.name,
        "batch",
        window_start=window.start,
        window_end=window.end,
        lineage=project.lineage(
            model_name=model.ref.name, model_version=model.ref.version, model_alias=model.ref.alias
        ),
        engine=cast("EngineKind", engine.name),  # the store refuses an unknown engine
        trigger=trigger,
    )
    result = FlowResult()
    scored: ScoredWindow | None = None
    log_to = None
    if labels_configured(project):
        log_to = WindowLog.of(
            project.root,
            project.name,
            project.settings.labels,
            window,
            model_version=model.ref.version,
            run_id=run_id,
        )
    try:
        job = WindowJob(
            project.pipeline.batch,
            window,
            run_id,
            project.name,
            project.source() if project.pipeline.ingest is None else None,
            project.sink(),
            context={**model.scoring_context(), "window": window},
            policies=project.policies(),
            baselines=baselines,
            output_columns={MODEL_VERSION_COLUMN: model.ref.version},
            log=log_to,
            on_step=on_step,
        )
        scored = score_window(engine, job)
        result = scored.result
        observation = observe_window(
            project,
            run_id,
            window,
            model,
            result,
            scored.profile,
            past=past,
            rerun=earlier is not None,
        )
        location = scored.commit()
    except Exception as error:
        if scored is not None:
            scored.discard()
        result, message = record_failure(store, run_id, error, result)
        outcome = _failed(window, run_id, result, message, model.ref.version, error, past)
        alerted = _alert_failure(project, outcome, rerun=earlier is not None)
        raise WindowFailed(alerted, error) from error
    record_flow(store, run_id, result)
    store.finish_run(
        run_id,
        status="succeeded",
        rows_in=result.rows_in,
        rows_valid=result.rows_valid,
        rows_invalid=result.rows_invalid,
        rows_quarantined=result.rows_quarantined,
        rows_out=scored.rows_out,
        output=location,
        lineage={"data_version": scored.data_version},
    )
    if not past:
        clear_failure(store, project.name, window.start)
    clear_missing_input(store, project.name, window.start)
    challenger = score_challenger(
        project,
        window,
        run_id,
        engine,
        version_column=MODEL_VERSION_COLUMN,
        log_predictions=log_to is not None,
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
        rows_invalid=result.rows_invalid,
        past=past,
        held=tuple(observation.held) if observation else (),
        challenger=challenger,
    )
    if outcome.critical and project.settings.monitoring.fail_on_critical:
        raise CriticalAlert(outcome)
    return outcome


def labels_configured(project: Project) -> bool:
    """Whether shipml.toml has a `[labels]` table: predictions are then logged with their key."""
    return "labels" in project.settings.model_fields_set


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
    window: Window,
    run_id: str,
    result: FlowResult,
    message: str,
    version: str,
    error: BaseException,
    past: bool,
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
        rows_invalid=result.rows_invalid,
        reason=failure_reason(error),
        past=past,
        missing_input=_is_missing_input(error),
    )


def _is_missing_input(error: BaseException) -> bool:
    return isinstance(error, MissingInput) or isinstance(
        getattr(error, "error", None), MissingInput
    )


def _alert_failure(project: Project, outcome: WindowOutcome, *, rerun: bool) -> WindowOutcome:
    """Raise the failed window's `window_failed` alert, or hold it when the window is past.

    Missing input is left to the orchestrator, which alerts once its retries are spent.
    """
    if outcome.missing_input:
        return outcome
    assert outcome.reason is not None and outcome.run_id is not None
    if outcome.past:
        finding = HeldFinding(
            outcome.window.start, WINDOW_FAILED, "batch", "critical", outcome.reason, rerun
        )
        return dataclasses.replace(outcome, held=(finding,), critical=True)
    try:
        raised = raise_failure(
            project.store,
            project.name,
            outcome.reason,
            window_key=str(outcome.window),
            run_id=outcome.run_id,
            window_start=outcome.window.start,
            sinks=project.alert_sinks,
        )
    except Exception:  # the failure is recorded; an alert that cannot be stored must not hide it
        log.exception("window %s failed, and its alert could not be raised", outcome.window)
        return outcome
    return dataclasses.replace(outcome, alerts=(raised.alert.message,), critical=True)
