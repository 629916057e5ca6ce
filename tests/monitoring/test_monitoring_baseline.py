"""The baseline stored with a model version: features, holdout predictions, shift reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from shipml.monitoring import MonitoringBaseline, MonitoringError, detect_drift, profile


def _training(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    features = pd.DataFrame(
        {
            "temperature_c": rng.normal(60, 5, rows),
            "vibration_mm_s": rng.gamma(2.0, 1.0, rows),
            "mode": pd.Series(rng.choice(["idle", "run", "maintenance"], rows), dtype="str"),
        }
    )
    probability = rng.beta(2, 5, rows // 4)
    holdout = pd.DataFrame({"failure_probability": probability, "will_fail": probability > 0.5})
    return features, holdout


def test_baseline_profiles_features_and_predictions_on_one_spec() -> None:
    features, holdout = _training(4000, seed=50)

    baseline = MonitoringBaseline.from_training(features, holdout, "failure_probability")

    kinds = {name: column.kind for name, column in baseline.spec.columns.items()}
    assert kinds == {
        "temperature_c": "numeric",
        "vibration_mm_s": "numeric",
        "mode": "categorical",
        "failure_probability": "numeric",
        "will_fail": "categorical",
    }
    assert baseline.profile.columns["temperature_c"].rows == 4000
    assert baseline.profile.columns["failure_probability"].rows == 1000
    assert baseline.predictions.rows == 1000
    assert baseline.predictions.statistic == "mean"


def test_baseline_round_trips_through_json_exactly() -> None:
    features, holdout = _training(2000, seed=51)
    baseline = MonitoringBaseline.from_training(features, holdout, "failure_probability")

    restored = MonitoringBaseline.model_validate_json(baseline.model_dump_json())

    assert restored == baseline
    assert np.array_equal(
        restored.predictions.per_row_values(), baseline.predictions.per_row_values()
    )


def test_a_window_profiled_on_the_baseline_spec_compares_with_it() -> None:
    features, holdout = _training(4000, seed=52)
    baseline = MonitoringBaseline.from_training(features, holdout, "failure_probability")
    window_features, window_predictions = _training(3600, seed=53)
    window = pd.concat([window_features.iloc[:900], window_predictions.iloc[:900]], axis=1)

    results = detect_drift(baseline.profile, profile(window, baseline.spec))

    assert {result.column for result in results} == set(baseline.spec.columns)
    assert not any(result.drifted for result in results)


def test_positive_rate_baseline_profiles_the_label_as_categories() -> None:
    features, holdout = _training(2000, seed=54)

    baseline = MonitoringBaseline.from_training(
        features, holdout, "will_fail", statistic="positive_rate", positive_label=True
    )

    assert baseline.spec.columns["will_fail"].categories == ["False", "True"]
    assert baseline.predictions.positive_label == "True"


def test_integer_labels_can_be_profiled_as_categories_for_the_positive_rate() -> None:
    features, holdout = _training(2000, seed=55)
    holdout["will_fail"] = holdout["will_fail"].astype(int)

    baseline = MonitoringBaseline.from_training(
        features, holdout, "will_fail", statistic="positive_rate", positive_label=1
    )

    assert baseline.spec.columns["will_fail"].kind == "categorical"
    assert baseline.spec.columns["failure_probability"].kind == "numeric"


def test_a_positive_label_never_predicted_is_refused() -> None:
    features, holdout = _training(2000, seed=56)

    with pytest.raises(ValidationError, match="positive label 'yes' is not among"):
        MonitoringBaseline.from_training(
            features, holdout, "will_fail", statistic="positive_rate", positive_label="yes"
        )


def test_a_missing_prediction_column_is_refused() -> None:
    features, holdout = _training(400, seed=57)

    with pytest.raises(MonitoringError, match="no column 'probability'"):
        MonitoringBaseline.from_training(features, holdout, "probability")
