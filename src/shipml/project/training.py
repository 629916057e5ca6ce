"""Training: run the training flow, evaluate on a holdout, log and register the model.

The holdout is split off the raw training data before any step runs, and is scored by
the same transforms and predict step that batch and serving use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as sk_metrics

from shipml.contracts import Baseline
from shipml.contracts.reading import read_table
from shipml.errors import TrainingError
from shipml.monitoring import MonitoringBaseline
from shipml.pipeline.pipeline import Flow
from shipml.pipeline.runner import FlowResult, StepObserver, run_flow
from shipml.project._records import record_failure, record_flow
from shipml.project.baselines import ModelBaselines
from shipml.project.project import Project
from shipml.versioning.lineage import file_version
from shipml.versioning.tracking import ModelRef

HOLDOUT_SEED = 0


@dataclass(frozen=True)
class TrainingOutcome:
    """A trained, evaluated and registered model."""

    run_id: str
    model: ModelRef
    metrics: dict[str, float]
    data_version: str
    rows_train: int
    rows_holdout: int


def train(
    project: Project, *, data: Path | None = None, on_step: StepObserver | None = None
) -> TrainingOutcome:
    """Train on `[training] data` (or `data`), evaluate, log to MLflow and register a version."""
    settings = project.settings.training
    if settings is None:
        raise TrainingError("shipml.toml has no [training] section (data, target)")
    path = data or settings.data
    frame = read_table(path)
    data_version = file_version(path)
    fit_rows, holdout_rows = _split(frame, settings.holdout_fraction, settings.time_column)
    store = project.store
    run_id = store.start_run(
        project.name, "train", lineage=project.lineage(data_version=data_version)
    )
    result = FlowResult()
    try:
        result = run_flow(
            project.pipeline.training,
            fit_rows,
            context={"params": {}},
            policies=project.policies(),
            on_step=on_step,
        )
        evaluation = run_flow(
            _scoring_flow(project), holdout_rows.drop(columns=[settings.target]),
            context={"model": result.output}, policies=project.policies(),
        )  # fmt: skip
        predictions = evaluation.output
        column = _prediction_column(project, predictions)
        truth = holdout_rows[settings.target].loc[predictions.index]
        scores = _metrics(settings.task, truth, predictions[column])
        features = result.last_input.drop(columns=[settings.target])
        outputs = predictions[predictions.columns.difference(features.columns)]
        baselines = ModelBaselines(
            inputs=Baseline.from_frame(fit_rows.drop(columns=[settings.target])),
            monitoring=MonitoringBaseline.from_training(features, outputs, column),
        )
        model = project.tracker.log_training(
            model=result.output,
            params={"rows_train": len(fit_rows), "rows_holdout": len(holdout_rows)},
            metrics=scores,
            tags=_tags(project, data_version),
            input_example=evaluation.last_input.head(5),
            output_example=predictions.head(5),
            baseline=baselines.to_json(),
        )
    except Exception as error:
        record_failure(store, run_id, error, result)
        raise
    record_flow(store, run_id, result)
    store.save_profile(
        pipeline=project.name,
        kind="baseline",
        name="baseline",
        payload=baselines.monitoring.model_dump(mode="json"),
        run_id=run_id,
        model_name=model.name,
        model_version=model.version,
    )
    store.finish_run(
        run_id,
        status="succeeded",
        rows_in=result.rows_in,
        rows_valid=result.rows_valid,
        rows_quarantined=result.rows_quarantined,
        rows_out=len(predictions),
        lineage={"model_name": model.name, "model_version": model.version},
    )
    return TrainingOutcome(run_id, model, scores, data_version, len(fit_rows), len(holdout_rows))


def _split(
    frame: pd.DataFrame, fraction: float, time_column: str | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out the latest rows by `time_column`, or a seeded random sample without one."""
    if len(frame) < 10:
        raise TrainingError(f"training data has {len(frame)} rows; at least 10 are needed")
    holdout_size = max(1, round(len(frame) * fraction))
    if time_column is not None:
        if time_column not in frame.columns:
            raise TrainingError(f"training data has no time column {time_column!r}")
        order = np.argsort(pd.to_datetime(frame[time_column], utc=True).to_numpy(), kind="stable")
    else:
        order = np.random.default_rng(HOLDOUT_SEED).permutation(len(frame))
    cut = len(frame) - holdout_size
    return frame.iloc[np.sort(order[:cut])], frame.iloc[np.sort(order[cut:])]


def _scoring_flow(project: Project) -> Flow:
    """transforms -> predict: what scores the holdout (postprocess is for consumers)."""
    pipeline = project.pipeline
    return Flow("online", (*pipeline.transforms, pipeline.predict))


def _prediction_column(project: Project, predictions: pd.DataFrame) -> str:
    """The score to evaluate and monitor: `[training] prediction`, else the only float field."""
    configured = getattr(project.settings.training, "prediction", None)
    if configured:
        return str(configured)
    contract = project.pipeline.predict.output
    assert contract is not None
    floats = [
        name
        for name in contract.model_fields
        if name in predictions.columns and pd.api.types.is_float_dtype(predictions[name])
    ]
    if len(floats) != 1:
        raise TrainingError(
            f"cannot tell which column of {contract.__name__} is the prediction "
            f"(float columns: {floats}); set [training] prediction in shipml.toml"
        )
    return floats[0]


def _metrics(task: str, truth: pd.Series, predicted: pd.Series) -> dict[str, float]:
    """Holdout metrics by task: AUC/accuracy/F1 for classification, RMSE/MAE for regression."""
    if task == "regression":
        error = predicted.to_numpy(float) - truth.to_numpy(float)
        return {
            "rmse": float(np.sqrt(np.mean(error**2))),
            "mae": float(np.mean(np.abs(error))),
        }
    labels = truth.astype(int).to_numpy()
    scores = predicted.to_numpy(float)
    found: dict[str, float] = {
        "accuracy": float(sk_metrics.accuracy_score(labels, scores >= 0.5)),
        "f1": float(sk_metrics.f1_score(labels, scores >= 0.5, zero_division=0)),
        "positive_rate": float(labels.mean()),
    }
    if len(np.unique(labels)) == 2:
        found["auc"] = float(sk_metrics.roc_auc_score(labels, scores))
    return found


def _tags(project: Project, data_version: str) -> dict[str, str]:
    lineage = project.lineage(data_version=data_version)
    tags = {f"shipml.{key}": str(value) for key, value in lineage.items()}
    if "git_commit" in lineage:
        tags["mlflow.source.git.commit"] = str(lineage["git_commit"])
    return tags
