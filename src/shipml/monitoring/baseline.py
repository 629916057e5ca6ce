"""`MonitoringBaseline`: what the monitoring of a model version compares windows against.

Computed at training time and stored with the model version (as JSON): the profile of
the training features, joined with the profile of the holdout predictions, plus the
holdout's per-row prediction values for the prediction-shift rule (a `PredictionReference`
for a probability, a value or a positive rate; a `ClassReference` for the predicted class
of a multiclass model), and for a binary model with probabilities the calibration and
holdout values of estimated performance (a `EstimationReference`, CBPE). Its spec (edges
and categories) is the profile's own, so every window is profiled on exactly those bins; a
class column's categories are every class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shipml.errors import MonitoringError
from shipml.monitoring.class_shift import ClassReference
from shipml.monitoring.estimation import EstimationReference
from shipml.monitoring.profiles import CategoricalColumnProfile, Profile, profile
from shipml.monitoring.shift import (
    DEFAULT_MAX_VALUES,
    PredictionReference,
    ShiftStatistic,
)
from shipml.monitoring.spec import (
    DEFAULT_BINS,
    DEFAULT_TOP_K,
    CategoricalColumnSpec,
    ProfileSpec,
)

BaselineStatistic = ShiftStatistic | Literal["class_shares"]
Reference = Annotated[PredictionReference | ClassReference, Field(discriminator="statistic")]


class MonitoringBaseline(BaseModel):
    """Reference profile (features and predictions) and prediction values of a model version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile: Profile
    predictions: Reference
    performance: EstimationReference | None = None  # binary with probabilities: CBPE

    @model_validator(mode="after")
    def _check_prediction_column(self) -> MonitoringBaseline:
        reference = self.predictions
        name = reference.column
        expected = "numeric" if reference.statistic == "mean" else "categorical"
        column = self.profile.columns.get(name)
        if column is None or column.kind != expected:
            raise ValueError(
                f"statistic '{reference.statistic}' needs the prediction column "
                f"'{name}' profiled as {expected}"
            )
        if isinstance(reference, ClassReference):
            assert isinstance(column, CategoricalColumnProfile)
            if column.categories != reference.classes:
                raise ValueError(f"the categories of '{name}' must be its classes, in order")
            return self
        label = reference.positive_label
        if isinstance(column, CategoricalColumnProfile) and label not in column.categories:
            raise ValueError(f"positive label {label!r} is not among the categories of '{name}'")
        return self

    @classmethod
    def from_training(
        cls,
        features: pd.DataFrame,
        predictions: pd.DataFrame,
        prediction_column: str,
        statistic: BaselineStatistic = "mean",
        positive_label: object = None,
        numeric: Sequence[str] | None = None,
        categorical: Sequence[str] | None = None,
        bins: int = DEFAULT_BINS,
        top_k: int = DEFAULT_TOP_K,
        max_values: int = DEFAULT_MAX_VALUES,
        classes: Sequence[object] | None = None,
        watch_std: bool = False,
    ) -> MonitoringBaseline:
        """Profile the training features and the holdout predictions, in holdout order.

        `numeric`/`categorical` select feature columns (auto-detected by dtype when both
        are None); every column of `predictions` is profiled, by dtype, except the
        prediction column, whose kind follows the statistic (numeric for "mean",
        categorical for "positive_rate" and "class_shares"; the latter counts each of
        `classes`, the model's classes in order). `watch_std` also watches the spread of a
        numeric prediction (regressions).
        """
        if prediction_column not in predictions.columns:
            raise MonitoringError(f"holdout predictions have no column '{prediction_column}'")
        feature_spec = ProfileSpec.from_baseline(features, numeric, categorical, bins, top_k)
        column = predictions[prediction_column]
        reference: PredictionReference | ClassReference
        if statistic == "class_shares":
            if not classes:
                raise MonitoringError("statistic 'class_shares' needs the model's classes")
            names = [str(c) for c in classes]
            reference = ClassReference.from_predictions(column, names, max_values)
            own = ProfileSpec(columns={prediction_column: CategoricalColumnSpec(categories=names)})
        else:
            reference = PredictionReference.from_predictions(
                column, statistic, positive_label, max_values, watch_std=watch_std
            )
            own = _prediction_spec(predictions, prediction_column, statistic, bins, top_k)
        others = predictions.drop(columns=[prediction_column])
        prediction_spec = own.combine(ProfileSpec.from_baseline(others, bins=bins, top_k=top_k))
        joined = profile(features, feature_spec).join(profile(predictions, prediction_spec))
        return cls(profile=joined, predictions=reference)

    @property
    def spec(self) -> ProfileSpec:
        """The edges and categories every window is profiled on."""
        return self.profile.spec


def _prediction_spec(
    predictions: pd.DataFrame, column: str, statistic: ShiftStatistic, bins: int, top_k: int
) -> ProfileSpec:
    kind = {"numeric": [column]} if statistic == "mean" else {"categorical": [column]}
    return ProfileSpec.from_baseline(predictions, bins=bins, top_k=top_k, **kind)
