"""Prometheus metrics of one app (requests, latencies, steps, validation, predictions, model),
and the middleware that gives every request its id and counts it.

Every app has its own `CollectorRegistry`, so several apps can live in one process (tests,
or an app mounted in a user's app). With several uvicorn workers, `shipml serve` sets
PROMETHEUS_MULTIPROC_DIR before the workers start: each worker writes its values to files
there and /metrics adds up all workers' files, whichever worker answers the scrape.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Iterable, Sequence

import numpy as np
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shipml.contracts import ValidationReport
from shipml.errors import ApiError
from shipml.logs import request_context
from shipml.pipeline import StepTiming
from shipml.serving.shapes import error_response
from shipml.versioning.tracking import ModelRef

log = logging.getLogger(__name__)

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
OTHER = "(other)"  # the label of anything outside a known set, to bound label values
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
# Without a baseline or contract bounds to go by: buckets for a probability.
DEFAULT_PREDICTION_BUCKETS = tuple(float(b) for b in np.round(np.linspace(0.05, 1.0, 20), 2))


class ServingMetrics:
    """The metrics an app records, in its own registry."""

    def __init__(
        self,
        *,
        columns: Iterable[str],
        endpoints: Iterable[str] = (),
        prediction_buckets: Sequence[float] = DEFAULT_PREDICTION_BUCKETS,
    ) -> None:
        self.registry = CollectorRegistry()
        self._multiprocess = bool(os.environ.get(MULTIPROCESS_VARIABLE))
        self._endpoints = frozenset(endpoints)
        self._columns = frozenset(columns)
        self.prediction_buckets = tuple(sorted(set(prediction_buckets)))
        registry = self.registry
        self.requests = Counter(
            "shipml_requests",
            "HTTP requests answered, by endpoint and status code.",
            ["endpoint", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "shipml_request_duration_seconds",
            "Time to answer an HTTP request, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.step_seconds = Histogram(
            "shipml_step_duration_seconds",
            "Time a pipeline step took on one micro-batch, by step.",
            ["step"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_records = Histogram(
            "shipml_batch_records",
            "Records scored together in one micro-batch.",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.validation_failures = Counter(
            "shipml_validation_failures",
            "Records rejected by a contract, by boundary, column and rule.",
            ["boundary", "column", "rule"],
            registry=registry,
        )
        self.predictions = Histogram(
            "shipml_prediction_value",
            "Values of the prediction column returned.",
            buckets=sorted(set(prediction_buckets)),
            registry=registry,
        )
        self.model_info = Gauge(
            "shipml_model_info",
            "1 for the model version being served, 0 for versions served before.",
            ["name", "version", "alias"],
            multiprocess_mode="livemax",
            registry=registry,
        )
        self.reloads = Counter(
            "shipml_model_reloads",
            "Attempts to load a new model version after the alias moved, by outcome.",
            ["outcome"],
            registry=registry,
        )

        self.answers = Counter(
            "shipml_model_answers",
            "Predict requests answered, by the version and alias that answered (the canary).",
            ["version", "alias"],
            registry=registry,
        )
        self.answer_seconds = Histogram(
            "shipml_model_answer_duration_seconds",
            "Time to answer a predict request, by the version and alias that answered.",
            ["version", "alias"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.shadow_records = Counter(
            "shipml_shadow_records",
            "Records the challenger scored in shadow, by outcome: agreed or disagreed with "
            "the champion, or failed.",
            ["outcome"],
            registry=registry,
        )
        self.shadow_dropped = Counter(
            "shipml_shadow_dropped_records",
            "Records not scored in shadow: the challenger's queue was full.",
            registry=registry,
        )
        self.shadow_seconds = Histogram(
            "shipml_shadow_batch_duration_seconds",
            "Time the challenger took on one shadow batch.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )

    def label_endpoints(self, paths: Iterable[str]) -> None:
        """Label requests to `paths` by their path (the app's routes); others as "(other)"."""
        self._endpoints = frozenset(paths)

    def endpoint_label(self, path: str) -> str:
        """`path` if it is one of the app's endpoints, else "(other)" (bounded labels)."""
        return path if path in self._endpoints else OTHER

    def observe_request(self, path: str, status: int, seconds: float) -> None:
        """Count an answered request and its duration."""
        endpoint = self.endpoint_label(path)
        self.requests.labels(endpoint, str(status)).inc()
        self.request_seconds.labels(endpoint).observe(seconds)

    def observe_batch(self, records: int, steps: Iterable[StepTiming]) -> None:
        """The size of a micro-batch and the time each step took on it."""
        self.batch_records.observe(records)
        for timing in steps:
            self.step_seconds.labels(timing.step).observe(timing.duration_s)

    def observe_rejection(self, boundary: str, report: ValidationReport) -> None:
        """Count the rows of each failed rule (columns outside the contract as "(other)")."""
        for failure in report.failures:
            column = failure.column if failure.column in self._columns else OTHER
            self.validation_failures.labels(boundary, column, failure.rule).inc(failure.count)

    def observe_predictions(self, values: np.ndarray) -> None:
        """Add prediction values to the histogram (missing values are left out)."""
        for value in values[np.isfinite(values)].tolist():
            self.predictions.observe(value)

    def observe_answer(self, model: ModelRef, seconds: float) -> None:
        """Count a predict request under the version that answered it."""
        alias = model.alias or ""
        self.answers.labels(model.version, alias).inc()
        self.answer_seconds.labels(model.version, alias).observe(seconds)

    def serving(self, model: ModelRef | None, previous: ModelRef | None = None) -> None:
        """Mark `model` as served (None: nothing under its alias), `previous` as no longer."""
        if previous is not None:
            self.model_info.labels(previous.name, previous.version, previous.alias or "").set(0)
        if model is not None:
            self.model_info.labels(model.name, model.version, model.alias or "").set(1)

    def render(self) -> bytes:
        """The metrics in the Prometheus text format (all workers' in multiprocess mode)."""
        if self._multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
            return generate_latest(registry)
        return generate_latest(self.registry)


# --- per request ---------------------------------------------------------------------------

HEADER = b"x-request-id"
CLIENT_CLOSED = 499  # as nginx counts a request whose client went away
CLIENT_TIMED_OUT = 408
TIMED_OUT = "shipml.timed_out"  # set in a request's scope by the server when its body was late
_ACCEPTED_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")


class RequestContextMiddleware:
    """Gives every HTTP request an id (logs, response header) and counts it in the metrics.

    An error that escapes the app becomes a JSON 500 with the request id, logged once.
    """

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                headers = [*message.get("headers", []), (HEADER, request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        with request_context(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except ClientDisconnect:  # nobody to answer: counted, and not a server error
                timed_out = scope.get(TIMED_OUT)
                status = CLIENT_TIMED_OUT if timed_out else CLIENT_CLOSED
                log.info(
                    "%s %s: %s",
                    scope["method"],
                    scope["path"],
                    timed_out or "the client disconnected before sending the whole request",
                )
            except Exception:
                log.exception("unhandled error answering %s %s", scope["method"], scope["path"])
                if response_started:
                    raise
                failure = ApiError(500, "internal error; the server log has the details")
                await error_response(failure, request_id)(scope, receive, send_with_id)
            finally:
                path = scope["path"].removeprefix(scope.get("root_path", ""))
                self.metrics.observe_request(path, status, time.perf_counter() - started)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER and _ACCEPTED_ID.fullmatch(value):
            return bytes(value).decode()
    return f"{random.getrandbits(128):032x}"  # unique enough, and no system call per request
