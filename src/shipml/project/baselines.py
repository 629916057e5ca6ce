"""What a model version was trained against, stored with it in the registry.

Two baselines: statistics of the raw input rows, which the validation diagnoses compare a
window with (null rates, renamed columns recognised by their values), and the monitoring
baseline of features and holdout predictions, which drift and prediction shift compare with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shipml.contracts import Baseline
from shipml.monitoring import MonitoringBaseline
from shipml.pipeline.pipeline import Flow


@dataclass(frozen=True)
class ModelBaselines:
    """The input and monitoring baselines of one model version."""

    inputs: Baseline
    monitoring: MonitoringBaseline

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, as logged with the model."""
        return {
            "inputs": self.inputs.model_dump(mode="json"),
            "monitoring": self.monitoring.model_dump(mode="json"),
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any] | None) -> ModelBaselines | None:
        """Read what `to_json` wrote (None for a model logged without baselines)."""
        if not payload or "monitoring" not in payload:
            return None
        return cls(
            inputs=Baseline.model_validate(payload["inputs"]),
            monitoring=MonitoringBaseline.model_validate(payload["monitoring"]),
        )

    def for_flow(self, flow: Flow) -> dict[str, Baseline]:
        """The input baseline, keyed by the boundary where `flow` takes its rows in."""
        first = flow.steps[0]
        return {f"{first.name}.input": self.inputs} if first.data_parameter else {}
