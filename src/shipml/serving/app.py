"""The app: `create_app(project)` assembles the parts serving the pipeline's online flow with
its model, the lifespan starts and stops their background work, and the registry watch
keeps the model current and the readiness honest.

Background work (`Runtime`): micro-batching, the registry/store watch, monitoring flushes.
It starts with the app's lifespan, or with the first request when the app is mounted in
another app (Starlette does not run a mounted app's lifespan).

Hot reload and readiness (`Watch`): every `reload_interval_seconds` the watch asks the
registry which version the alias points at and pings the store. When the alias moved, the
new version is loaded in a thread, warmed up, and swapped in between two batches; requests
never wait for it and never fail because of it. A registry or store that does not answer
makes the server not ready (`Health`); the loaded model keeps serving.

A `shipml serve` process builds its app with `server_app`; with several workers, each
worker calls `worker_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from fastapi import FastAPI

from shipml.alerting.state import raise_window_alerts
from shipml.config import ServingSettings
from shipml.errors import RegistryError, ServingError, first_line, without_password
from shipml.monitoring import PerformanceRecord, WindowEvaluation
from shipml.pipeline import Pipeline
from shipml.project import MonitoringMetrics, PerformanceMetrics, register_monitoring_metrics
from shipml.project.batch import labels_configured
from shipml.project.online import online_window_outcome
from shipml.project.predictions import online_log_writer
from shipml.project.project import Project
from shipml.serving.batching import MicroBatcher
from shipml.serving.canary import Canary
from shipml.serving.docs import (
    PREDICT,
    Examples,
    describe_predict,
    example_record,
    example_records,
    serve_docs,
)
from shipml.serving.first_route import Handler, ServingApp, endpoint_of
from shipml.serving.metrics import RequestContextMiddleware, ServingMetrics
from shipml.serving.model import (
    LOAD_TIMEOUT_FACTOR,
    ModelSlot,
    Probe,
    ServedModel,
    in_thread,
    load_model,
    prediction_buckets,
    prediction_column,
    unreachable,
)
from shipml.serving.monitor import OnEvaluated, OnlineMonitor
from shipml.serving.routes import Parts, add_routes, served_paths
from shipml.serving.scoring import Failed, Rejected, Scored, Scorer
from shipml.serving.server import LIMITS, ConnectionLimits, redact_access_log
from shipml.serving.service import PredictionService
from shipml.serving.shadow import Shadow
from shipml.serving.shapes import Record
from shipml.store import RunStore
from shipml.versioning.tracking import LoadedModel, ModelRef, ModelVersionInfo, Tracker

log = logging.getLogger(__name__)

PROJECT_VARIABLE = "SHIPML_SERVE_PROJECT"  # the project directory, set by `shipml serve`
QUEUED_BATCHES = 8  # records waiting beyond this many full batches get a 503
FINAL_FLUSH_SECONDS = 10.0
REGISTRY = "registry"
STORE = "store"

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[dict[str, Any]]]


def create_app(
    project: Project,
    *,
    model: LoadedModel | None = None,
    challenger: LoadedModel | None = None,
) -> FastAPI:
    """The app serving `project`'s online flow with the model its alias (`champion`) names.

    With `model`, that model is served (and `challenger`, if given, is the challenger) and
    the registry is neither read nor watched (tests, or an app that loads its model itself).
    Otherwise the model is loaded from the registry, which is then polled for a new version
    every `reload_interval_seconds`; the challenger alias (`[model] challenger`) is
    loaded and followed the same way.
    Raises `ServingError` when no model can be loaded within `[serving]
    registry_timeout_seconds`.
    """
    online = project.pipeline.online
    if online.input is None or online.output is None:
        raise ServingError(f"pipeline {project.pipeline.name!r}: the online flow has no contracts")
    served = ServedModel.of(model or load_model(project))
    tracker = project.tracker if model is None else None
    rival = ServedModel.of(challenger) if challenger is not None and model is not None else None
    parts, examples = _assemble(project, served, tracker, rival)
    app = ServingApp(
        title=f"{project.name} predictions",
        description=f"Pipeline {project.pipeline!r}, served by shipml.",
        docs_url=None,  # served by serve_docs, without a CDN
        redoc_url=None,
        lifespan=_lifespan(parts.runtime, served, ConnectionLimits.of(parts.settings)),
    )
    documented = add_routes(app, parts, output=online.output)
    serve_docs(app)
    max_records = project.settings.serving.max_records
    describe_predict(app, documented, online.input, max_records=max_records, examples=examples)
    parts.metrics.label_endpoints(served_paths(app.routes))
    app.add_middleware(RequestContextMiddleware, metrics=parts.metrics)
    predict = endpoint_of(cast(Handler, documented.endpoint))
    app.answer_first(PREDICT, RequestContextMiddleware(predict, metrics=parts.metrics))
    return app


def _assemble(
    project: Project, served: ServedModel, tracker: Tracker | None, challenger: ServedModel | None
) -> tuple[Parts, Examples | None]:
    """The parts of the app, wired together; the example is scored once to warm up."""
    settings = project.settings.serving
    online = project.pipeline.online
    column = prediction_column(served, online.output, _configured_prediction(project))
    metrics = ServingMetrics(
        columns=_contract_columns(project.pipeline),
        prediction_buckets=prediction_buckets(served, online.output, column),
    )
    metrics.serving(served.ref)
    slot = ModelSlot(served)
    if challenger is not None:
        slot.replace_challenger(challenger)
        metrics.serving(challenger.ref)
    gauges = register_monitoring_metrics(metrics.registry, project.name)
    monitor = OnlineMonitor(
        lambda: project.store,
        pipeline=project.name,
        lineage=project.lineage(),
        flush_seconds=settings.monitor_flush_seconds,
        flush_requests=settings.monitor_flush_requests,
        rules=project.settings.monitoring,
        on_evaluated=_alerting(project, gauges, PerformanceMetrics(metrics.registry, project.name)),
        on_stored=online_window_outcome(project),
        log_predictions=(
            online_log_writer(project.root, project.name, project.settings.labels)
            if labels_configured(project)
            else None
        ),
    )
    shadow = None
    rival_alias = project.settings.model.challenger
    if settings.shadow and (rival_alias is not None or challenger is not None):
        shadow = Shadow(
            Scorer(project.pipeline),
            slot,
            monitor,
            metrics,
            column=column,
            buckets=metrics.prediction_buckets,
            max_rows=settings.max_records,
            max_queued_rows=settings.shadow_queue_records,
            wait_seconds=settings.shadow_wait_ms / 1000,
            tolerance=settings.shadow_tolerance,
        )
    service = PredictionService(
        Scorer(project.pipeline),
        slot,
        metrics,
        monitor,
        column,
        on_answered=shadow.offer if shadow is not None else None,
    )
    assert online.input is not None
    examples = _examples(service, served, example_records(online.input))
    example = examples.record if examples is not None else None
    if examples is not None and settings.api_key is not None:
        # The docs are open to callers without the key: no real prediction in them.
        made = example_record(online.output) if online.output is not None else None
        examples = Examples(examples.record, None if made is None else (served.ref, [made]))
    health = Health(problems={STORE: "not checked yet"})
    watch = Watch(
        health=health,
        slot=slot,
        metrics=metrics,
        store=lambda: project.store,
        store_url=str(project.settings.store.url),
        tracker=tracker,
        alias=project.settings.model.alias,
        challenger_alias=rival_alias,
        challenger_role=_challenger_role(settings),
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
    runtime = Runtime(batcher, watch, monitor, shadow)
    canary = None
    if settings.canary_fraction > 0:
        canary = Canary(
            settings.canary_fraction,
            key_field=settings.canary_key_field,
            key_header=settings.canary_key_header,
        )
    return Parts(settings, runtime, slot, health, metrics, monitor, canary), examples


def _lifespan(runtime: Runtime, served: ServedModel, limits: ConnectionLimits) -> Lifespan:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        await runtime.start()
        log.info("serving %s v%s", served.ref.name, served.ref.version)
        try:
            yield {LIMITS: limits}  # the server's protocol reads them (shipml.serving.server)
        finally:
            await runtime.stop()

    return lifespan


def _alerting(
    project: Project, gauges: MonitoringMetrics, performance: PerformanceMetrics
) -> OnEvaluated:
    """Raise an online window's alerts (deduplicated, new ones to the sinks); update gauges."""

    def on_evaluated(
        run_id: str,
        start: datetime,
        evaluation: WindowEvaluation,
        estimated: PerformanceRecord | None,
    ) -> None:
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
        if estimated is not None:  # realized performance reaches Prometheus from label ingests
            performance.update([estimated])

    return on_evaluated


def _examples(
    service: PredictionService, served: ServedModel, candidates: list[Record]
) -> Examples | None:
    """The first candidate record the service answers 200, with its answer (for the docs).

    Scoring them warms the flow up (first calls are slow). When none is answered 200, the
    docs show no example rather than one that fails.
    """
    failures: list[str] = []
    for candidate in candidates:
        outcome = service.warm_up(served, candidate)
        if isinstance(outcome, Scored):
            return Examples(candidate, (outcome.model, outcome.rows))
        if isinstance(outcome, Rejected):
            failures.append(f"rejected: {outcome.report.summary()}")
        elif isinstance(outcome, Failed):
            failures.append(f"failed at step {outcome.step}:\n{outcome.traceback}")
    if failures:
        log.warning("no example record for the docs: the last one %s", failures[-1])
    return None


def _check_candidate(
    service: PredictionService, candidate: ServedModel, example: Record | None
) -> None:
    """Warm up a newly loaded version; refuse it when a step raises on the example."""
    outcome = service.warm_up(candidate, example)
    if isinstance(outcome, Failed):
        raise ServingError(
            f"v{candidate.ref.version} fails on the example record at step {outcome.step} "
            f"({outcome.error})"
        )


def _challenger_role(settings: ServingSettings) -> str:
    """What the server does with a loaded challenger, as its log line says."""
    roles = ["scored in shadow"] if settings.shadow else []
    if settings.canary_fraction > 0:
        roles.append(f"answering {settings.canary_fraction:.0%} of requests (canary)")
    return " and ".join(roles) or "loaded, not scored ([serving] shadow = false)"


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


# --- background work ---------------------------------------------------------------------


class Runtime:
    """Starts and stops the batcher and the background loops, once."""

    def __init__(
        self,
        batcher: MicroBatcher,
        watch: Watch,
        monitor: OnlineMonitor,
        shadow: Shadow | None = None,
    ) -> None:
        self.batcher = batcher
        self.watch = watch
        self.monitor = monitor
        self.shadow = shadow
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Check the store and registry once, then start everything."""
        await self.watch.check()
        self._launch()

    def ensure_started(self) -> None:
        """Start everything if the lifespan did not (a mounted app)."""
        if not self._tasks:
            self._launch(check_first=True)

    async def stop(self) -> None:
        """Stop the loops and the batcher, then store the last monitoring window."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.batcher.stop()
        if self.shadow is not None:
            await asyncio.to_thread(self.shadow.stop)
        try:
            await asyncio.wait_for(asyncio.to_thread(self.monitor.flush), FINAL_FLUSH_SECONDS)
        except TimeoutError:
            log.warning("the last monitoring window was not stored in time and is lost")

    def _launch(self, *, check_first: bool = False) -> None:
        loop = asyncio.get_running_loop()
        self.batcher.start()
        self._tasks = [
            loop.create_task(self._watch(check_first), name="shipml-watch"),
            loop.create_task(self.monitor.run(self.batcher.after_batches), name="shipml-monitor"),
        ]

    async def _watch(self, check_first: bool) -> None:
        if check_first:
            await self.watch.check()
        await self.watch.run()


# --- the registry and store watch ----------------------------------------------------------


@dataclass
class Health:
    """What is wrong with the server's dependencies right now (nothing: ready)."""

    problems: dict[str, str] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        """True when every dependency answered its last check."""
        return not self.problems

    def up(self, dependency: str) -> None:
        """`dependency` answered; log when it was not known to be up."""
        if self.problems.pop(dependency, None) is not None:
            log.info("%s reachable", dependency)

    def down(self, dependency: str, problem: str) -> None:
        """`dependency` failed its check; log when it goes down."""
        if dependency not in self.problems:
            log.warning("%s unreachable, reporting not ready: %s", dependency, problem)
        self.problems[dependency] = problem


@dataclass
class Watch:
    """The background checks of one app."""

    health: Health
    slot: ModelSlot
    metrics: ServingMetrics
    store: Callable[[], RunStore]
    store_url: str
    tracker: Tracker | None  # None: the model was handed to the app, no registry to watch
    alias: str
    warm_up: Callable[[ServedModel], None]  # raises to refuse the new version
    interval: float
    timeout: float
    challenger_alias: str | None = None
    challenger_role: str = "scored in shadow"  # what the log says a loaded challenger does
    _resolve: Probe[ModelVersionInfo | str] | None = field(init=False, default=None)
    _challenger: Probe[ModelVersionInfo | None] | None = field(init=False, default=None)
    _ping: Probe[str | None] = field(init=False)

    def __post_init__(self) -> None:
        def ping() -> str | None:
            """Nothing when the store answers, or why it cannot be reached."""
            cause = unreachable(self.store_url, self.timeout)
            if cause is None:
                self.store().runs(limit=1)
            return cause

        self._ping = Probe(ping, self.timeout)
        if self.tracker is not None:
            tracker, alias, timeout = self.tracker, self.alias, self.timeout

            def resolve() -> ModelVersionInfo | str:
                """The version the alias names, or why the registry cannot be reached."""
                return unreachable(tracker.tracking_uri, timeout) or tracker.resolve(alias)

            self._resolve = Probe(resolve, self.timeout)
            if self.challenger_alias is not None:
                rival = self.challenger_alias
                self._challenger = Probe(lambda: tracker.resolve_if_set(rival), self.timeout)

    async def run(self) -> None:
        """Check, then check again every `interval` seconds, until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            await self.check()

    async def check(self) -> None:
        """Check the store and the registry once; reload when the alias moved."""
        await asyncio.gather(self._check_store(), self._check_registry())

    async def _check_store(self) -> None:
        where = without_password(self.store_url)
        try:
            cause = await self._ping()
        except Exception as error:
            self.health.down(
                STORE, f"store at {where} failed: {without_password(first_line(error))}"
            )
            return
        if cause is not None:
            self.health.down(STORE, f"store unreachable at {where}: {cause}")
        else:
            self.health.up(STORE)

    async def _check_registry(self) -> None:
        if self._resolve is None or self.tracker is None:
            return
        where = without_password(self.tracker.tracking_uri)
        try:
            info = await self._resolve()
        except RegistryError as error:  # its message names the registry, or the missing alias
            self.health.down(REGISTRY, first_line(error))
            return
        except Exception as error:
            cause = without_password(first_line(error))
            self.health.down(REGISTRY, f"registry at {where} failed: {cause}")
            return
        if isinstance(info, str):
            self.health.down(REGISTRY, f"registry unreachable at {where}: {info}")
            return
        self.health.up(REGISTRY)
        if info.ref.version != self.slot.current.ref.version:
            loaded = await self._load(self.alias, info, self.slot.current.ref)
            if loaded is not None:
                previous = self.slot.replace(loaded)
                self.metrics.serving(loaded.ref, previous.ref)
                log.info(
                    "now serving %s v%s (was v%s)",
                    self.alias,
                    loaded.ref.version,
                    previous.ref.version,
                )
        await self._check_challenger()

    async def _check_challenger(self) -> None:
        """Follow the challenger alias: load the version it names, or stop at its removal."""
        if self._challenger is None:
            return
        try:
            info = await self._challenger()
        except Exception as error:  # the champion's check reports the registry's health
            log.debug("the challenger alias was not read: %s", first_line(error))
            return
        current = self.slot.challenger
        if info is None:
            if current is not None:
                self.slot.replace_challenger(None)
                self.metrics.serving(None, current.ref)
                log.info(
                    "alias %s removed: v%s no longer challenges",
                    self.challenger_alias,
                    current.ref.version,
                )
            return
        if current is not None and current.ref.version == info.ref.version:
            return
        assert self.challenger_alias is not None
        loaded = await self._load(
            self.challenger_alias, info, None if current is None else current.ref
        )
        if loaded is not None:
            previous = self.slot.replace_challenger(loaded)
            self.metrics.serving(loaded.ref, None if previous is None else previous.ref)
            log.info(
                "challenger %s v%s loaded: %s",
                self.challenger_alias,
                loaded.ref.version,
                self.challenger_role,
            )

    async def _load(
        self, alias: str, info: ModelVersionInfo, serving: ModelRef | None
    ) -> ServedModel | None:
        """The version `alias` now names, loaded and warmed up; None when it cannot be."""
        assert self.tracker is not None
        tracker = self.tracker
        was = f"v{serving.version}" if serving is not None else "none"
        log.info("alias %s moved from %s to v%s: loading it", alias, was, info.ref.version)
        try:
            loading = asyncio.wrap_future(in_thread(lambda: tracker.load(alias)))
            loaded = await asyncio.wait_for(loading, self.timeout * LOAD_TIMEOUT_FACTOR)
            candidate = ServedModel.of(loaded)
            await asyncio.to_thread(self.warm_up, candidate)
        except Exception as error:
            self.metrics.reloads.labels("failed").inc()
            log.error(
                "cannot load %s@%s v%s, still using %s: %s",
                info.ref.name,
                alias,
                info.ref.version,
                was,
                first_line(error),
            )
            return None
        self.metrics.reloads.labels("succeeded").inc()
        return candidate


# --- a serving process ---------------------------------------------------------------------


def server_app(project: Project) -> FastAPI:
    """`create_app(project)` for a process that does nothing but serve it."""
    app = create_app(project)
    redact_access_log()
    # A full garbage collection walks every object of the process: with pandas, scikit-learn
    # and MLflow loaded, about 250 ms during which no request moves. What exists now (modules,
    # the model) lives as long as the server: frozen, it is left out of every collection.
    gc.collect()
    gc.freeze()
    return app


def worker_app() -> FastAPI:
    """The app of the project named by $SHIPML_SERVE_PROJECT (one per worker process)."""
    directory = os.environ.get(PROJECT_VARIABLE)
    if not directory:
        raise RuntimeError(f"${PROJECT_VARIABLE} is not set: start the server with `shipml serve`")
    return server_app(Project.load(directory))
