"""What a model version was trained against, stored with it in the registry.

Two baselines: statistics of the raw input rows, which the validation diagnoses compare a
window with (null rates, renamed columns recognised by their values), and the monitoring
baseline of features and holdout predictions, which drift and prediction shift compare with.
Beside them, as tags of the version, the task, the classes, the positive class and the
decision threshold that batch scoring and serving hand to the steps.

What prediction shift watches, by task:

- binary: the mean probability of the positive class (or, when the prediction has no
  probability, the share of rows predicted positive);
- multiclass: each class's predicted share, and the mix of predicted classes;
- regression: the mean and the standard deviation of the predicted values.

A binary model with the probability of its positive class also gets estimated performance
(CBPE): its calibration, fitted on the holdout when needed, and the holdout's calibrated
probabilities for the chunk baseline, so that a window is estimated without refitting.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd

from shipml.contracts import Baseline
from shipml.monitoring import EstimationReference, MonitoringBaseline
from shipml.pipeline.pipeline import Flow
from shipml.project.outputs import PredictionLayout
from shipml.project.targets import Target
from shipml.versioning import CLASSES_TAG, POSITIVE_LABEL_TAG, TASK_TAG, THRESHOLD_TAG
from shipml.windows import Cadence

MOST_WINDOW_SIZES = 4


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


def monitoring_baseline(
    features: pd.DataFrame,
    outputs: pd.DataFrame,
    target: Target,
    layout: PredictionLayout,
    truth: pd.Series | None = None,
    threshold: float | None = None,
    window_rows: Collection[int] = (),
) -> MonitoringBaseline:
    """The monitoring baseline of `target`'s task from the fitted features and holdout outputs.

    With the holdout's `truth` (in the order of `outputs`), a binary model with probabilities
    also gets its estimated-performance reference (calibrated on the holdout when needed),
    with the chunk baselines of windows of `window_rows` rows stored.
    """
    baseline = _prediction_baseline(features, outputs, target, layout)
    probability = layout.probability_of(target.positive) if target.task == "binary" else None
    if probability is None or truth is None:
        return baseline
    performance = EstimationReference.from_holdout(
        outputs,
        target.is_positive(truth),
        probability,
        label=layout.label,
        positive_label=target.positive,
        threshold=0.5 if threshold is None else threshold,  # training's default threshold
        window_rows=window_rows,
    )
    return baseline.model_copy(update={"performance": performance})


def window_sizes(times: pd.Series, cadence: Cadence, most: int = MOST_WINDOW_SIZES) -> list[int]:
    """The commonest row counts of the windows the training rows fall in, by their time.

    Windows of these sizes are judged against baselines stored with the model version (a
    source that sends a fixed number of rows per window gets one size). The first and last
    windows of the data, usually cut short, are left out. A cron cadence has no fixed window
    length: none.
    """
    if not isinstance(cadence, timedelta):
        return []
    stamps = pd.to_datetime(times, utc=True, errors="coerce").dropna()
    per_window = stamps.dt.floor(cadence).value_counts().sort_index()
    if len(per_window) > 2:
        per_window = per_window.iloc[1:-1]
    return sorted(int(rows) for rows in per_window.value_counts().index[:most])


def _prediction_baseline(
    features: pd.DataFrame, outputs: pd.DataFrame, target: Target, layout: PredictionLayout
) -> MonitoringBaseline:
    if target.task == "regression":
        assert layout.label is not None
        return MonitoringBaseline.from_training(features, outputs, layout.label, watch_std=True)
    if target.task == "multiclass":
        assert layout.label is not None
        return MonitoringBaseline.from_training(
            features, outputs, layout.label, statistic="class_shares", classes=target.classes
        )
    probability = layout.probability_of(target.positive)
    if probability is not None:
        return MonitoringBaseline.from_training(features, outputs, probability)
    assert layout.label is not None
    return MonitoringBaseline.from_training(
        features, outputs, layout.label, statistic="positive_rate", positive_label=target.positive
    )


def task_tags(target: Target, threshold: float | None) -> dict[str, str]:
    """The model version's task tags: task, classes, positive class and decision threshold."""
    tags: dict[str, str] = {TASK_TAG: target.task}
    if target.is_classifier:
        tags[CLASSES_TAG] = json.dumps(list(target.classes))
    if target.task == "binary":
        tags[POSITIVE_LABEL_TAG] = json.dumps(target.positive)
        if threshold is not None:
            tags[THRESHOLD_TAG] = repr(threshold)
    return tags
