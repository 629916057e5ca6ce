"""The model being served: loaded from the registry within a timeout, its baseline, which of
its output columns is the prediction, and its atomic replacement.

MLflow retries an unreachable backend for minutes (its database engine, its HTTP client),
so every call the server makes to the registry runs in a daemon thread and is waited for at
most a timeout. A call that is still running is not started again: the next probe waits on it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_args
from urllib.parse import urlsplit

import annotated_types
import numpy as np
from pydantic import BaseModel, ValidationError

from shipml.errors import (
    ProbeTimeout,
    RegistryError,
    ServingError,
    first_line,
    without_password,
)
from shipml.monitoring import MonitoringBaseline, NumericColumnProfile
from shipml.project.baselines import ModelBaselines
from shipml.project.project import Project
from shipml.serving.metrics import DEFAULT_PREDICTION_BUCKETS
from shipml.serving.shapes import ModelBody
from shipml.versioning.tracking import LoadedModel, ModelRef, ModelVersionInfo, Tracker

log = logging.getLogger(__name__)

T = TypeVar("T")

# Loading downloads and unpickles the model: it may take this many times the timeout.
LOAD_TIMEOUT_FACTOR = 4
_CONNECT_SECONDS = 5.0
_DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "mysql": 3306, "mssql": 1433}
_BUCKETS = 20


@dataclass(frozen=True)
class ServedModel:
    """A loaded model version and its monitoring baseline (None when trained without one)."""

    loaded: LoadedModel
    baseline: MonitoringBaseline | None

    @classmethod
    def of(cls, loaded: LoadedModel) -> ServedModel:
        """Wrap `loaded`, reading its baseline; an unreadable baseline is logged and left out."""
        return cls(loaded, _baseline(loaded))

    @property
    def ref(self) -> ModelRef:
        """Name, version and alias."""
        return self.loaded.ref

    @property
    def estimator(self) -> Any:
        """The object the predict step receives as `model`."""
        return self.loaded.model

    def describe(self) -> ModelBody:
        """What GET /model answers."""
        return ModelBody.of(self.loaded.info)


class ModelSlot:
    """Holds the served model and the challenger (if any); a reload replaces either in one
    assignment, between batches."""

    def __init__(self, model: ServedModel, challenger: ServedModel | None = None) -> None:
        self._model = model
        self._challenger = challenger

    @property
    def current(self) -> ServedModel:
        """The model new batches use."""
        return self._model

    def replace(self, model: ServedModel) -> ServedModel:
        """Serve `model` from the next batch on; return the one it replaces."""
        previous, self._model = self._model, model
        return previous

    @property
    def challenger(self) -> ServedModel | None:
        """The challenger new batches use (shadow and canary), None when none is set."""
        return self._challenger

    def replace_challenger(self, model: ServedModel | None) -> ServedModel | None:
        """Use `model` as the challenger from the next batch on; return the one it replaces."""
        previous, self._challenger = self._challenger, model
        return previous


def _baseline(loaded: LoadedModel) -> MonitoringBaseline | None:
    try:
        baselines = ModelBaselines.from_json(loaded.baseline)
    except ValidationError as error:
        log.warning(
            "model %s v%s: its monitoring baseline cannot be read, online windows will hold "
            "latencies and counts only (%s)",
            loaded.ref.name,
            loaded.ref.version,
            error.errors(include_url=False)[0]["msg"],
        )
        return None
    return None if baselines is None else baselines.monitoring


# --- the prediction column ----------------------------------------------------------------


def prediction_column(
    served: ServedModel, output: type[BaseModel] | None, configured: str | None
) -> str | None:
    """The baseline's prediction column, else `[training] prediction`, else the only float."""
    if served.baseline is not None:
        return served.baseline.predictions.column
    if configured:
        return configured
    if output is None:
        return None
    floats = [name for name, f in output.model_fields.items() if _is_float(f.annotation)]
    return floats[0] if len(floats) == 1 else None


def prediction_buckets(
    served: ServedModel, output: type[BaseModel] | None, column: str | None
) -> tuple[float, ...]:
    """The baseline's bin edges of the column, else steps between its bounds, else 0.05..1."""
    if column is None:
        return DEFAULT_PREDICTION_BUCKETS
    if served.baseline is not None:
        profiled = served.baseline.profile.columns.get(column)
        if isinstance(profiled, NumericColumnProfile) and len(set(profiled.edges)) > 1:
            return tuple(sorted(set(profiled.edges)))
    bounds = _bounds(output, column)
    if bounds is not None:
        low, high = bounds
        return tuple(float(edge) for edge in np.linspace(low, high, _BUCKETS + 1)[1:])
    return DEFAULT_PREDICTION_BUCKETS


def _is_float(annotation: Any) -> bool:
    return annotation is float or float in get_args(annotation)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _bounds(output: type[BaseModel] | None, column: str) -> tuple[float, float] | None:
    """The field's lower and upper bounds (ge/gt and le/lt), when it has both."""
    if output is None or column not in output.model_fields:
        return None
    low = high = None
    for constraint in output.model_fields[column].metadata:
        match constraint:
            case annotated_types.Ge(ge=value) | annotated_types.Gt(gt=value):
                low = _number(value)
            case annotated_types.Le(le=value) | annotated_types.Lt(lt=value):
                high = _number(value)
    if low is None or high is None or not low < high:
        return None
    return low, high


# --- the registry, within a timeout -------------------------------------------------------


def load_model(project: Project) -> LoadedModel:
    """The model the project's alias names; `ServingError` when it cannot be had in time."""
    check_model(project)
    loading = project.settings.serving.registry_timeout_seconds * LOAD_TIMEOUT_FACTOR
    return _ask(project, loading, lambda tracker, alias: tracker.load(alias))


def check_model(project: Project) -> ModelVersionInfo:
    """The version the project's alias names, without loading it (a fail-fast check).

    `ServingError` when the registry does not answer within `registry_timeout_seconds`.
    """
    timeout = project.settings.serving.registry_timeout_seconds
    return _ask(project, timeout, lambda tracker, alias: tracker.resolve(alias))


def _ask(project: Project, timeout: float, question: Callable[[Tracker, str], T]) -> T:
    # Imported first, so that their import time (seconds) is not counted in the timeout.
    import mlflow.artifacts
    import mlflow.pyfunc
    import mlflow.sklearn  # noqa: F401

    # MLflow logs each failed attempt on its database with the error and its traceback; the
    # server says it once, in one line (at startup, in /ready and when it goes down).
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
    alias = project.settings.model.alias
    tracker = project.tracker
    where = without_password(tracker.tracking_uri)
    cause = unreachable(tracker.tracking_uri, timeout)
    if cause is not None:
        raise ServingError(f"registry unreachable at {where}: {cause}")
    try:
        return call_within(lambda: question(tracker, alias), timeout)
    except ProbeTimeout:
        raise ServingError(
            f"the model registry at {where} did not answer within {timeout:g} s; "
            "check [tracking] uri and that the registry is up"
        ) from None
    except RegistryError as error:
        message = f"cannot serve {tracker.model_name}@{alias}: {first_line(error)}"
        raise ServingError(message) from None
    except Exception as error:
        raise ServingError(
            f"cannot load {tracker.model_name}@{alias} from the registry at {where}: "
            f"{first_line(error)}"
        ) from None


def unreachable(uri: str, timeout: float) -> str | None:
    """Why the server behind a registry or database URI takes no connection, or None.

    Only a TCP connection is tried (no credentials, no protocol): it tells "down" from
    "up" in milliseconds, where MLflow would retry for minutes. URIs without a network
    address (a SQLite file, a local directory) are not checked.
    """
    address = _address(uri)
    if address is None:
        return None
    host, port = address
    try:
        with socket.create_connection(address, timeout=min(timeout, _CONNECT_SECONDS)):
            return None
    except socket.gaierror:
        return f"host {host!r} not found"
    except ConnectionRefusedError:
        return f"connection refused by {host} port {port}"
    except TimeoutError:
        return f"no connection to {host} port {port} within {min(timeout, _CONNECT_SECONDS):g} s"
    except OSError as error:
        return f"cannot connect to {host} port {port}: {error.strerror or error}"


def _address(uri: str) -> tuple[str, int] | None:
    """The host and port of a network URI (http(s), or a database's), else None."""
    parts = urlsplit(uri)
    scheme = parts.scheme.split("+", 1)[0].lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default is None or not parts.hostname:
        return None
    try:
        return parts.hostname, parts.port or default
    except ValueError:  # a port that is not a number: MLflow will say so
        return None


def in_thread(function: Callable[[], T]) -> Future[T]:
    """Start `function` in a daemon thread (it never holds up the process's exit)."""
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(function())
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=run, name="shipml-probe", daemon=True).start()
    return future


def call_within(function: Callable[[], T], timeout: float) -> T:
    """`function()`, or `ProbeTimeout` after `timeout` seconds."""
    try:
        return in_thread(function).result(timeout)
    except FutureTimeout:
        raise ProbeTimeout(f"no answer within {timeout:g} s") from None


class Probe(Generic[T]):
    """Calls a blocking function from the event loop, one call at a time, within a timeout."""

    def __init__(self, function: Callable[[], T], timeout: float) -> None:
        self._function = function
        self._timeout = timeout
        self._running: Future[T] | None = None

    async def __call__(self) -> T:
        """The function's result; its exception, or `ProbeTimeout`."""
        if self._running is None or self._running.done():
            self._running = in_thread(self._function)
        waiting = asyncio.wrap_future(self._running)
        done, _ = await asyncio.wait({waiting}, timeout=self._timeout)
        if not done:
            raise ProbeTimeout(f"no answer within {self._timeout:g} s")
        return waiting.result()
