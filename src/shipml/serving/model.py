"""The model being served, with what monitoring needs from it, and its atomic replacement."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shipml.monitoring import MonitoringBaseline
from shipml.project.baselines import ModelBaselines
from shipml.versioning.tracking import LoadedModel, ModelRef

log = logging.getLogger(__name__)


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

    def describe(self) -> dict[str, Any]:
        """What GET /model answers."""
        info = self.loaded.info
        return {
            "name": info.ref.name,
            "version": info.ref.version,
            "alias": info.ref.alias,
            "trained_at": info.created_at.isoformat(),
            "data_version": info.data_version,
            "git_commit": info.git_commit,
            "run_id": info.ref.run_id,
            "metrics": info.metrics,
        }


class ModelSlot:
    """Holds the served model; a reload replaces it in one assignment, between batches."""

    def __init__(self, model: ServedModel) -> None:
        self._model = model

    @property
    def current(self) -> ServedModel:
        """The model new batches use."""
        return self._model

    def replace(self, model: ServedModel) -> ServedModel:
        """Serve `model` from the next batch on; return the one it replaces."""
        previous, self._model = self._model, model
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
