"""The model at startup: load it from the registry, or fail fast with one clear line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from shipml.errors import RegistryError, ServingError
from shipml.project.project import Project
from shipml.serving.probes import ProbeTimeout, call_within, first_line, without_password
from shipml.versioning.tracking import LoadedModel, ModelVersionInfo

# Loading downloads and unpickles the model: it may take this many times the timeout.
LOAD_TIMEOUT_FACTOR = 4

T = TypeVar("T")


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


def _ask(project: Project, timeout: float, question: Callable[..., T]) -> T:
    # Imported first, so that their import time (seconds) is not counted in the timeout.
    import mlflow.artifacts
    import mlflow.pyfunc
    import mlflow.sklearn  # noqa: F401

    alias = project.settings.model.alias
    tracker = project.tracker
    where = without_password(tracker.tracking_uri)
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
