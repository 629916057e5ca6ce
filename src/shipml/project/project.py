"""A user's project: its settings, its pipeline object, and the services they name."""

from __future__ import annotations

import importlib
import logging
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from shipml.alerting.kept import keep_in_store, resend_kept
from shipml.alerting.sinks import AlertSink
from shipml.config import Settings, load_settings
from shipml.errors import ProjectError
from shipml.io.sinks import Sink
from shipml.io.sources import Source
from shipml.pipeline.pipeline import Pipeline
from shipml.pipeline.runner import BoundaryPolicy, Policies
from shipml.store import RunStore, StoreError
from shipml.versioning.lineage import git_state, shipml_version
from shipml.versioning.tracking import Tracker

log = logging.getLogger(__name__)

HOME = ".shipml"  # the project's local state: run store, MLflow tracking, artifacts


@dataclass
class Project:
    """The project directory, its settings, and its pipeline."""

    root: Path
    settings: Settings
    pipeline: Pipeline

    @classmethod
    def load(cls, root: Path | str = ".") -> Project:
        """Read `shipml.toml` in `root` and import the pipeline object it names."""
        directory = Path(root).resolve()
        settings = load_settings(directory)
        pipeline = _import_pipeline(directory, settings.project.pipeline)
        try:
            (directory / HOME).mkdir(exist_ok=True)
        except OSError as error:
            raise ProjectError(
                f"cannot create the project's state directory {directory / HOME}: {error.strerror}"
            ) from None
        return cls(root=directory, settings=settings, pipeline=pipeline)

    @property
    def name(self) -> str:
        """The pipeline's name in runs, outputs and alerts."""
        return self.settings.project.name

    @cached_property
    def store(self) -> RunStore:
        """The run store (migrated on first use), with the `[store]` timeouts."""
        settings = self.settings.store
        assert settings.url is not None
        return RunStore(
            settings.url,
            connect_timeout=settings.connect_timeout.total_seconds(),
            statement_timeout=settings.statement_timeout.total_seconds(),
        )

    @cached_property
    def tracker(self) -> Tracker:
        """MLflow tracking and registry for this project's model."""
        tracking = self.settings.tracking
        assert tracking.uri is not None and self.settings.model.name is not None
        return Tracker(
            tracking.uri,
            experiment=self.name,
            model_name=self.settings.model.name,
            artifact_root=tracking.artifacts,
        )

    @cached_property
    def alert_sinks(self) -> list[AlertSink]:
        """Where new alerts go: the log, and the webhook when one is configured.

        Notices the webhook cannot deliver are kept in the store; building the sinks sends
        those an earlier run kept.
        """
        sinks = self.settings.alerts.sinks(keep=keep_in_store(self.store))
        try:
            resend_kept(self.store, self.name, sinks)
        except StoreError as error:
            log.error("cannot read the alerts kept for sending again: %s", error)
        return sinks

    def source(self) -> Source:
        """Where batch windows read their input."""
        return self.settings.window_source()

    def sink(self) -> Sink:
        """Where batch windows write their output."""
        return self.settings.output

    def policies(self) -> Policies:
        """The validation policy of every boundary, from `[validation]`."""
        validation = self.settings.validation
        limit = validation.max_invalid_fraction
        return Policies(
            default=BoundaryPolicy(validation.policy, limit),
            overrides={
                name: BoundaryPolicy(policy, limit)
                for name, policy in validation.boundaries.items()
            },
        )

    def lineage(self, **extra: Any) -> dict[str, Any]:
        """Git state, config hash and shipml version, plus `extra` (data and model versions)."""
        git = git_state(self.root)
        found = {
            "git_commit": git.commit,
            "git_dirty": git.dirty,
            "config_hash": self.settings.config_hash(),
            "shipml_version": shipml_version(),
            **extra,
        }
        return {key: value for key, value in found.items() if value is not None}


def _import_pipeline(root: Path, reference: str) -> Pipeline:
    module_name, _, attribute = reference.partition(":")
    _forget_shadowed_modules(root)
    if str(root) in sys.path:
        sys.path.remove(str(root))
    sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        raise ProjectError(
            f"shipml.toml: project.pipeline: cannot import module {module_name!r} from {root} "
            f"({error})"
        ) from error
    pipeline = getattr(module, attribute, None)
    if not isinstance(pipeline, Pipeline):
        found = "nothing" if pipeline is None else type(pipeline).__name__
        raise ProjectError(
            f"shipml.toml: project.pipeline: {reference!r} should name a shipml Pipeline, "
            f"found {found}"
        )
    return pipeline


def _forget_shadowed_modules(root: Path) -> None:
    """Drop modules imported from another project that this project's files would shadow.

    Projects name their modules alike (contracts.py, steps.py, pipeline.py); loading a second
    project in one process must import its own files, not the first project's.
    """
    local = {p.stem for p in root.glob("*.py")} | {
        p.parent.name for p in root.glob("*/__init__.py")
    }
    for name in list(sys.modules):
        top = name.partition(".")[0]
        if top not in local:
            continue
        origin = getattr(sys.modules[name], "__file__", None)
        if origin is None or not Path(origin).resolve().is_relative_to(root):
            del sys.modules[name]
