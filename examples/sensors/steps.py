"""The sensors pipeline's steps: plain functions of pandas frames whose annotations are contracts.

Each step works on any window of readings and on a single row: every transform is row-local,
and rows keep their order and their index (so labels set aside by shipml can follow them).
Batch scoring and online serving therefore share the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from contracts import (
    LABEL,
    Clean,
    Features,
    LabelledFeatures,
    Mode,
    Prediction,
    Reading,
    ScoredReading,
)
from shipml import Table, step

MODES: tuple[str, ...] = get_args(Mode)
SENSORS = ("temperature_c", "vibration_mm_s", "pressure_bar", "rpm")
NOMINAL_RPM = 1500.0
FEATURE_COLUMNS = (
    "temperature_c",
    "temperature_missing",
    "vibration_mm_s",
    "pressure_bar",
    "rpm",
    "rpm_deviation",
    "vibration_per_krpm",
    "heat_x_vibration",
    "mode_idle",
    "mode_run",
    "mode_maintenance",
)
DEFAULT_PARAMS: Mapping[str, Any] = {"max_iter": 200, "learning_rate": 0.1, "random_state": 0}
DECISION_THRESHOLD = 0.5  # failure_predicted, and the start of the "high" risk level
MEDIUM_RISK = 0.2
PREDICTION_COLUMNS = ("machine_id", "ts", "failure_probability", "failure_predicted")

_MIN_RPM_FOR_RATIO = 100.0  # a stopped machine still vibrates a little; avoid dividing by ~0


@step
def preprocess(readings: Table[Reading]) -> Table[Clean]:
    """Normalise raw readings: `ts` to UTC, sensor values to floats; other columns pass."""
    clean = readings.copy()
    clean["ts"] = pd.to_datetime(clean["ts"], utc=True, format="ISO8601")
    clean["machine_id"] = clean["machine_id"].astype("str")
    clean["mode"] = clean["mode"].astype("str")
    for sensor in SENSORS:
        clean[sensor] = pd.to_numeric(clean[sensor]).astype("float64")
    return clean


@step
def featurize(clean: Table[Clean]) -> Table[Features]:
    """Row-local features: sensor values, ratios and interactions, the mode one-hot."""
    temperature = clean["temperature_c"]
    vibration = clean["vibration_mm_s"]
    rpm = clean["rpm"]
    features = pd.DataFrame(
        {
            "machine_id": clean["machine_id"],
            "ts": clean["ts"],
            "temperature_c": temperature,
            "temperature_missing": temperature.isna(),
            "vibration_mm_s": vibration,
            "pressure_bar": clean["pressure_bar"],
            "rpm": rpm,
            "rpm_deviation": (rpm - NOMINAL_RPM).abs(),
            "vibration_per_krpm": 1000.0 * vibration / rpm.clip(lower=_MIN_RPM_FOR_RATIO),
            "heat_x_vibration": temperature * vibration,
        },
        index=clean.index,
    )
    for mode in MODES:
        features[f"mode_{mode}"] = clean["mode"] == mode
    if LABEL in clean.columns:
        features[LABEL] = clean[LABEL].astype(bool)
    return features


@step
def train(features: Table[LabelledFeatures], params: Mapping[str, Any] | None = None) -> Pipeline:
    """Fit a gradient-boosted classifier of `failure_within_1h` on the feature columns.

    The fitted scikit-learn Pipeline takes a whole features frame (it picks FEATURE_COLUMNS
    itself). `params` override DEFAULT_PARAMS of HistGradientBoostingClassifier.
    """
    chosen = {**DEFAULT_PARAMS, **(params or {})}
    unknown = sorted(set(chosen) - set(HistGradientBoostingClassifier().get_params()))
    if unknown:
        raise ValueError(f"train: unknown HistGradientBoostingClassifier params {unknown}")
    labels = features[LABEL].astype(bool)
    if labels.nunique() < 2:
        raise ValueError(f"train: {LABEL!r} must hold both outcomes, got only {labels.iloc[0]}")
    model = Pipeline(
        [
            ("select", ColumnTransformer([("features", "passthrough", list(FEATURE_COLUMNS))])),
            ("classifier", HistGradientBoostingClassifier(**chosen)),
        ]
    )
    return model.fit(features, labels)


@step
def predict(features: Table[Features], model: Pipeline) -> Table[Prediction]:
    """The probability that each machine fails within the hour after each reading, in order."""
    if features.empty:
        probability = np.empty(0)
    else:
        failure_column = list(model.classes_).index(True)
        probability = model.predict_proba(features)[:, failure_column]
    return pd.DataFrame(
        {
            "machine_id": features["machine_id"],
            "ts": features["ts"],
            "failure_probability": probability,
            "failure_predicted": probability >= DECISION_THRESHOLD,
        },
        index=features.index,
    )


@step
def postprocess(predictions: Table[Prediction]) -> Table[ScoredReading]:
    """Predictions with a risk level: high from DECISION_THRESHOLD, medium from MEDIUM_RISK."""
    probability = predictions["failure_probability"].to_numpy(dtype=np.float64)
    risk = np.select(
        [probability >= DECISION_THRESHOLD, probability >= MEDIUM_RISK],
        ["high", "medium"],
        default="low",
    )
    scored = predictions.copy()
    scored["risk"] = pd.Series(risk, index=predictions.index, dtype="str")
    return scored
