"""`MonitoringBaseline`: what the monitoring of a model version compares windows against.

Computed at training time and stored with the model version (as JSON): the profile of
the training features, joined with the profile of the holdout predictions, plus the
holdout's per-row prediction values for the prediction-shift rule. Its spec (edges and
categories) is the profile's own, so every window is profiled on exactly those bins.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from pydantic import BaseModel, ConfigDict, model_validator

from shipml.errors import MonitoringError
from shipml.monitoring.profiles import CategoricalColumnProfile, Profile, profile
from shipml.monitoring.shift import (
    DEFAULT_MAX_VALUES,
    PredictionReference,
    ShiftStatistic,
)
from shipml.monitoring.spec import DEFAULT_BINS, DEFAULT_TOP_K, ProfileSpec


class MonitoringBaseline(BaseModel):
    """Reference profile (features and predictions) and prediction values of a model version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: Profile
    predictions: PredictionReference

    @model_validator(mode="after")
    def _check_prediction_column(self) -> MonitoringBaseline:
        name = self.predictions.column
        expected = "numeric" if self.predictions.statistic == "mean" else "categorical"
        column = self.profile.columns.get(name)
        if column is None or column.kind != expected:
            raise ValueError(
                f"statistic '{self.predictions.statistic}' needs the prediction column "
                f"'{name}' profiled as {expected}"
            )
        label = self.predictions.positive_label
        if isinstance(column, CategoricalColumnProfile) and label not in column.categories:
            raise ValueError(f"positive label {label!r} is not among the categories of '{name}'")
        return self

    @classmethod
    def from_training(
        cls,
        features: pd.DataFrame,
        predictions: pd.DataFrame,
        prediction_column: str,
        statistic: ShiftStatistic = "mean",
        positive_label: object = None,
        numeric: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        bins: int = DEFAULT_BINS,
        top_k: int = DEFAULT_TOP_K,
        max_values: int = DEFAULT_MAX_VALUES,
    ) -> MonitoringBaseline:
        """Profile the training features and the holdout predictions, in holdout order.

        `numeric`/`categorical` select feature columns (auto-detected by dtype when both
        are None); every column of `predictions` is profiled, by dtype, except the
        prediction column, whose kind follows the statistic (numeric for "mean",
        categorical for "positive_rate").
        """
        if prediction_column not in predictions.columns:
            raise MonitoringError(f"holdout predictions have no column '{prediction_column}'")
        feature_spec = ProfileSpec.from_baseline(features, numeric, categorical, bins, top_k)
        prediction_spec = _prediction_spec(predictions, prediction_column, statistic, bins, top_k)
        reference = PredictionReference.from_predictions(
            predictions[prediction_column], statistic, positive_label, max_values
        )
        joined = profile(features, feature_spec).join(profile(predictions, prediction_spec))
        return cls(profile=joined, predictions=reference)

    @property
    def spec(self) -> ProfileSpec:
        """The edges and categories every window is profiled on."""
        return self.profile.spec


def _prediction_spec(
    predictions: pd.DataFrame, column: str, statistic: ShiftStatistic, bins: int, top_k: int
) -> ProfileSpec:
    others = ProfileSpec.from_baseline(predictions.drop(columns=[column]), bins=bins, top_k=top_k)
    kind = {"numeric": [column]} if statistic == "mean" else {"categorical": [column]}
    own = ProfileSpec.from_baseline(predictions, bins=bins, top_k=top_k, **kind)
    return own.combine(others)
