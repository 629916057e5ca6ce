"""`create_app(project)`: a FastAPI app serving the pipeline's online flow with its model."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from shipml.alerting.state import raise_window_alerts
from shipml.errors import ServingError
from shipml.monitoring import WindowEvaluation
from shipml.pipeline import Pipeline
from shipml.project.online import online_window_outcome
from shipml.project.project import Project
from shipml.project.prometheus import MonitoringMetrics, register_monitoring_metrics
from shipml.serving.batching import MicroBatcher
from shipml.serving.examples import example_record
from shipml.serving.health import STORE, Health
from shipml.serving.metrics import ServingMetrics
from shipml.serving.middleware import RequestContextMiddleware
from shipml.serving.model import ModelSlot, ServedModel
from shipml.serving.monitor import OnEvaluated, OnlineMonitor
from shipml.serving.openapi import describe_predict
from shipml.serving.predictions import prediction_buckets, prediction_column
from shipml.serving.registry import load_model
from shipml.serving.routes import ENDPOINTS, Parts, add_routes
from shipml.serving.runtime import Runtime
from shipml.serving.scoring import Failed, Rejected, Scored, Scorer
from shipml.serving.service import PredictionService
from shipml.serving.watch import Watch
from shipml.versioning.tracking import LoadedModel, Tracker

log = logging.getLogger(__name__)

QUEUED_BATCHES = 8  # records waiting beyond this many full batches get a 503

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(
    project: Project,
    *,
    model: LoadedModel | None = None,
) -> FastAPI:
    """The app serving `project`'s online flow with the model its alias (`champion`) names.

    With `model`, that model is served and the registry is neither read nor watched
    (tests, or an app that loads its model itself). Otherwise the model is loaded from the
    registry, which is then polled for a new version every `reload_interval_seconds`.
    Raises `ServingError` when no model can be loaded within `[serving]
    registry_timeout_seconds`.
    """
    online = project.pipeline.online
    if online.input is None or online.output is None:
        raise ServingError(f"pipeline {project.pipeline.name!r}: the online flow has no contracts")
    served = ServedModel.of(model or load_model(project))
    tracker = project.tracker if model is None else None
    parts, examples = _assemble(project, served, tracker)
    app = FastAPI(
        title=f"{project.name} predictions",
        description=f"Pipeline {project.pipeline!r}, served by shipml.",
        lifespan=_lifespan(parts.runtime, served),
    )
    documented = add_routes(app, parts, output=online.output, response_example=examples.response)
    max_records = project.settings.serving.max_records
    describe_predict(
        app, documented, online.input, max_records=max_records, example=examples.request
    )
    app.add_middleware(RequestContextMiddleware, metrics=parts.metrics)
    return app


@dataclass(frozen=True)
class _Examples:
    """A record the input contract accepts, and the answer /predict gave it (for the docs)."""

    request: dict[str, Any] | None
    response: dict[str, Any] | None


def _assemble(
    project: Project, served: ServedModel, tracker: Tracker | None
) -> tuple[Parts, _Examples]:
    """The parts of the app, wired together; the example is scored once to warm up."""
    settings = project.settings.serving
    online = project.pipeline.online
    column = prediction_column(served, online.output, _configured_prediction(project))
    metrics = ServingMetrics(
        endpoints=ENDPOINTS,
        columns=_contract_columns(project.pipeline),
        prediction_buckets=prediction_buckets(served, online.output, column),
    )
    metrics.serving(served.ref)
    slot = ModelSlot(served)
    gauges = register_monitoring_metrics(metrics.registry, project.name)
    monitor = OnlineMonitor(
        lambda: project.store,
        pipeline=project.name,
        lineage=project.lineage(),
        flush_seconds=settings.monitor_flush_seconds,
        flush_requests=settings.monitor_flush_requests,
        rules=project.settings.monitoring,
        on_evaluated=_alerting(project, gauges),
        on_stored=online_window_outcome(project),
    )
    service = PredictionService(Scorer(project.pipeline), slot, metrics, monitor, column)
    assert online.input is not None
    example = example_record(online.input)
    examples = _Examples(example, _warm_up(service, served, example))
    health = Health(problems={STORE: "not checked yet"})
    watch = Watch(
        health=health,
        slot=slot,
        metrics=metrics,
        store=lambda: project.store,
        tracker=tracker,
        alias=project.settings.model.alias,
        warm_up=lambda candidate: _check_candidate(service, candidate, example),
        interval=settings.reload_interval_seconds,
        timeout=settings.registry_timeout_seconds,
    )
    batcher = MicroBatcher(
        service.score_batch,
        max_rows=settings.max_records,
        wait_seconds=settings.batch_wait_ms / 1000,
        max_queued_rows=settings.max_records * QUEUED_BATCHES,
    )
    runtime = Runtime(batcher, watch, monitor)
    return Parts(settings, runtime, slot, health, metrics, monitor), examples


def _lifespan(runtime: Runtime, served: ServedModel) -> Lifespan:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        log.info("serving %s v%s", served.ref.name, served.ref.version)
        try:
            yield
        finally:
            await runtime.stop()

    return lifespan


def _alerting(project: Project, gauges: MonitoringMetrics) -> OnEvaluated:
    """Raise an online window's alerts (deduplicated, new ones to the sinks); update gauges."""

    def on_evaluated(run_id: str, start: datetime, evaluation: WindowEvaluation) -> None:
        store = project.store
        raise_window_alerts(
            store,
            project.name,
            evaluation,
            run_id=run_id,
            window_start=start,
            sinks=project.alert_sinks,
        )
        gauges.update(evaluation)
        gauges.set_open_alerts(store.alerts(status="open", pipeline=project.name))

    return on_evaluated


def _warm_up(
    service: PredictionService, served: ServedModel, example: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Score the example once (first calls are slow); its answer documents /predict."""
    outcome = service.warm_up(served, example)
    if isinstance(outcome, Rejected):
        log.warning("the example record was rejected: %s", outcome.report.summary())
    elif isinstance(outcome, Failed):
        log.warning("the example record failed at step %s:\n%s", outcome.step, outcome.traceback)
    if not isinstance(outcome, Scored):
        return None
    stamp = {"name": served.ref.name, "version": served.ref.version}
    return {"request_id": "0b5c7d0e9a8f4e21", "model": stamp, "predictions": outcome.rows}


def _check_candidate(
    service: PredictionService, candidate: ServedModel, example: dict[str, Any] | None
) -> None:
    """Warm up a newly loaded version; refuse it when a step raises on the example."""
    outcome = service.warm_up(candidate, example)
    if isinstance(outcome, Failed):
        raise ServingError(
            f"v{candidate.ref.version} fails on the example record at step {outcome.step} "
            f"({outcome.error})"
        )


def _configured_prediction(project: Project) -> str | None:
    training = project.settings.training
    return training.prediction if training is not None else None


def _contract_columns(pipeline: Pipeline) -> set[str]:
    """Every field of every contract in the online flow (the labels validation metrics use)."""
    columns: set[str] = set()
    for step in pipeline.online.steps:
        for contract in (step.input, step.output):
            if contract is not None:
                columns.update(contract.model_fields)
    return columns
