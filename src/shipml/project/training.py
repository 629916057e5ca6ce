"""Training: run the training flow, evaluate on a holdout, log and register the model.

Before any step runs, the target is checked and its task decided (`targets`), and the
predict step's output contract is read for the prediction's columns (`outputs`). The
holdout is split off the raw training data, and is scored by the same transforms and
predict step that batch and serving use; a binary model's decision threshold is fixed (or
picked) on it and stored with the model version, with the task, the classes and the
positive class; metrics by task (`task_metrics`) and the confusion matrix go to MLflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shipml.config import TrainingSettings
from shipml.contracts import Baseline
from shipml.contracts.reading import read_table
from shipml.errors import TrainingError
from shipml.pipeline.pipeline import Flow
from shipml.pipeline.runner import FlowResult, StepObserver, run_flow
from shipml.project._records import record_failure, record_flow
from shipml.project.baselines import (
    ModelBaselines,
    monitoring_baseline,
    task_tags,
    window_sizes,
)
from shipml.project.outputs import PredictionLayout, check_values, read_layout
from shipml.project.performance import PERFORMANCE, performance_reference
from shipml.project.project import Project
from shipml.project.targets import Target, read_target
from shipml.project.task_metrics import Scores, score_holdout
from shipml.project.thresholds import DEFAULT_THRESHOLD, describe_threshold, pick_threshold
from shipml.versioning.lineage import file_version
from shipml.versioning.tracking import ModelRef

HOLDOUT_SEED = 0
CONFUSION_MATRIX_JSON = "shipml/confusion_matrix.json"
CONFUSION_MATRIX_CSV = "shipml/confusion_matrix.csv"


@dataclass(frozen=True)
class TrainingOutcome:
    """A trained, evaluated and registered model."""

    run_id: str
    model: ModelRef
    metrics: dict[str, float]
    data_version: str
    rows_train: int
    rows_holdout: int
    task: str = "regression"  # binary, multiclass or regression
    threshold: float | None = None  # binary: the decision threshold stored with the model
    notes: tuple[str, ...] = ()  # what training chose and noticed, said in its output


def train(
    project: Project,
    *,
    data: Path | None = None,
    on_step: StepObserver | None = None,
    since: datetime | None = None,
    trigger: str | None = None,
) -> TrainingOutcome:
    """Train on `[training] data` (or `data`), evaluate, log to MLflow and register a version.

    The target and the prediction contract are checked before any step runs. With `since`,
    only rows from then on by `[training] time_column` are used. `trigger` says what started
    the run ("retraining" for the scheduler's retraining policy).
    """
    settings = project.settings.training
    if settings is None:
        raise TrainingError("shipml.toml has no [training] section (data, target)")
    path = data or settings.data
    frame = _rows_since(read_table(path), settings, since)
    target, layout = _layout(project, read_target(frame, settings), settings)
    data_version = file_version(path)
    fit_rows, holdout_rows = split_holdout(frame, settings.holdout_fraction, settings.time_column)
    notes = [target.describe(), layout.describe(), *_missing_classes(target, fit_rows)]
    store = project.store
    run_id = store.start_run(
        project.name, "train", lineage=project.lineage(data_version=data_version), trigger=trigger
    )
    result = FlowResult()
    try:
        result = run_flow(
            project.pipeline.training,
            fit_rows,
            context={"params": {}, "threshold": _first_threshold(settings.threshold)},
            policies=project.policies(),
            on_step=on_step,
        )
        holdout = _score_holdout(project, result.output, holdout_rows, target, layout)
        predictions = holdout.predictions
        check_values(layout, target, predictions)
        truth = holdout_rows[target.column].loc[predictions.index]
        scores = score_holdout(target, layout, truth, predictions, holdout.threshold)
        notes += [*holdout.notes, *scores.notes]
        assert result.last_input is not None  # train always takes a frame
        features = result.last_input.drop(columns=[target.column])
        outputs = predictions[predictions.columns.difference(features.columns)]
        baselines = ModelBaselines(
            inputs=Baseline.from_frame(fit_rows.drop(columns=[target.column])),
            monitoring=monitoring_baseline(
                features,
                outputs,
                target,
                layout,
                truth,
                holdout.threshold,
                window_rows=_window_sizes(project, frame, settings.time_column),
            ),
        )
        model = project.tracker.log_training(
            model=result.output,
            params={
                "rows_train": len(fit_rows),
                "rows_holdout": len(holdout_rows),
                **_task_params(target, holdout.threshold),
            },
            metrics=scores.metrics,
            tags={**_tags(project, data_version), **task_tags(target, holdout.threshold)},
            input_example=holdout.features.head(5),
            output_example=predictions.head(5),
            baseline=baselines.to_json(),
            artifacts=_artifacts(scores),
            holdout=holdout_rows,
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
    store.save_profile(
        pipeline=project.name,
        kind="baseline",
        name=PERFORMANCE,
        payload=performance_reference(
            target, layout, truth, predictions, holdout.threshold
        ).model_dump(mode="json"),
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
    return TrainingOutcome(
        run_id,
        model,
        scores.metrics,
        data_version,
        len(fit_rows),
        len(holdout_rows),
        target.task,
        holdout.threshold,
        tuple(notes),
    )


@dataclass(frozen=True)
class _Holdout:
    """The holdout scored by the transforms and predict, with the threshold it was scored at."""

    scored: FlowResult
    threshold: float | None
    notes: list[str]

    @property
    def predictions(self) -> pd.DataFrame:
        """What the predict step returned."""
        frame: pd.DataFrame = self.scored.output
        return frame

    @property
    def features(self) -> pd.DataFrame:
        """What the predict step received."""
        assert self.scored.last_input is not None  # predict always takes a frame
        return self.scored.last_input


def _layout(
    project: Project, target: Target, settings: TrainingSettings
) -> tuple[Target, PredictionLayout]:
    """The prediction's columns, and whether predict can apply the configured threshold.

    A binary probability column not named after a class is taken to score the class
    scikit-learn's `predict_proba(...)[:, 1]` scores (the last class) unless
    `positive_label` says otherwise; the minority class would be a guess.
    """
    predict = project.pipeline.predict
    assert predict.output is not None  # the pipeline checks it at definition time
    layout = read_layout(predict.output, predict.input, target, settings)
    if layout.unnamed and target.positive_by == "minority":
        target = target.scored_by(layout.probabilities[target.positive])
        layout = read_layout(predict.output, predict.input, target, settings)
    configured = "threshold" in settings.model_fields_set or isinstance(settings.threshold, str)
    if target.task != "binary" or not configured:
        return target, layout
    if layout.probability_of(target.positive) is None:
        raise TrainingError(
            f"[training] threshold applies to the probability of {target.positive!r}, and "
            f"{predict.output.__name__} has no column for it: add one (e.g. "
            f"probability_{target.positive}: float), or remove the threshold"
        )
    if layout.label is not None and "threshold" not in predict.context_parameters:
        raise TrainingError(
            f"[training] threshold is set, but predict step {predict.name!r} labels "
            f"{layout.label!r} without it: give it a `threshold: float` parameter and label "
            "rows with probability >= threshold"
        )
    return target, layout


def prediction_layout(project: Project, target: Target) -> tuple[Target, PredictionLayout]:
    """The target as predict scores it, and the prediction's columns (as training reads them)."""
    settings = project.settings.training
    if settings is None:
        raise TrainingError("shipml.toml has no [training] section (data, target)")
    return _layout(project, target, settings)


def score_rows(project: Project, model: object, rows: pd.DataFrame, threshold: float) -> FlowResult:
    """Run the transforms and predict on raw `rows` (target dropped) with `model`."""
    return _run_scoring(project, model, rows, threshold)


def _rows_since(
    frame: pd.DataFrame, settings: TrainingSettings, since: datetime | None
) -> pd.DataFrame:
    """The rows from `since` on by the time column (all rows without `since`)."""
    if since is None:
        return frame
    if settings.time_column is None or settings.time_column not in frame.columns:
        raise TrainingError(
            "[retraining] since needs [training] time_column, a column of the training data"
        )
    times = pd.to_datetime(frame[settings.time_column], utc=True)
    return frame.loc[(times >= pd.Timestamp(since)).to_numpy()]


def _first_threshold(setting: float | str) -> float:
    """The threshold to score the holdout with first: the number, else the default."""
    return setting if isinstance(setting, float) else DEFAULT_THRESHOLD


def _score_holdout(
    project: Project,
    model: object,
    holdout_rows: pd.DataFrame,
    target: Target,
    layout: PredictionLayout,
) -> _Holdout:
    """Score the holdout; for a binary model pick its threshold, and score again at it.

    A binary prediction without a probability has no threshold (its class column decides).
    """
    settings = project.settings.training
    assert settings is not None
    rows = holdout_rows.drop(columns=[target.column])
    first = _first_threshold(settings.threshold)
    scored = _run_scoring(project, model, rows, first)
    column = layout.probability_of(target.positive)
    if target.task != "binary" or column is None:
        return _Holdout(scored, None, [])
    predictions: pd.DataFrame = scored.output
    truth = holdout_rows[target.column].loc[predictions.index]
    positive = target.is_positive(truth)
    threshold = pick_threshold(settings.threshold, positive, predictions[column].to_numpy(float))
    notes = [describe_threshold(settings.threshold, threshold)]
    if threshold != first and layout.label is not None:
        scored = _run_scoring(project, model, rows, threshold)
    if layout.label is not None:
        notes += _disagreement(scored.output, layout, target, column, threshold)
    return _Holdout(scored, threshold, notes)


def _run_scoring(
    project: Project, model: object, rows: pd.DataFrame, threshold: float
) -> FlowResult:
    return run_flow(
        _scoring_flow(project),
        rows,
        context={"model": model, "threshold": threshold},
        policies=project.policies(),
    )


def _disagreement(
    predictions: pd.DataFrame,
    layout: PredictionLayout,
    target: Target,
    column: str,
    threshold: float,
) -> list[str]:
    """A note when predict's class column is not `probability >= threshold`."""
    assert layout.label is not None
    labelled = target.is_positive(predictions[layout.label])
    decided = predictions[column].to_numpy(float) >= threshold
    differ = int((labelled != decided).sum())
    if not differ:
        return []
    return [
        f"warning: predict's {layout.label!r} differs from {column} >= {threshold:.4g} on "
        f"{differ} of {len(predictions)} holdout rows; its metrics are those of {layout.label!r}"
        " (give predict a `threshold` parameter to decide with the model's threshold)"
    ]


def _missing_classes(target: Target, fit_rows: pd.DataFrame) -> list[str]:
    """A note for each class the rows the model is fitted on do not hold."""
    if not target.is_classifier:
        return []
    present = set(target.as_classes(fit_rows[target.column]))
    absent = [c for c in target.classes if c not in present]
    if not absent:
        return []
    return [
        f"warning: class {', '.join(map(repr, absent))} of {target.column!r} is only in the "
        "holdout: the model never saw it (add rows of it, or lower holdout_fraction)"
    ]


def _task_params(target: Target, threshold: float | None) -> dict[str, object]:
    params: dict[str, object] = {"task": target.task}
    if target.task == "binary":
        params.update(positive_label=target.positive, threshold=threshold)
    return params


def _artifacts(scores: Scores) -> dict[str, str | dict[str, Any]]:
    if scores.confusion is None:
        return {}
    return {
        CONFUSION_MATRIX_JSON: scores.confusion.to_json(),
        CONFUSION_MATRIX_CSV: scores.confusion.to_csv(),
    }


def split_holdout(
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
    # With a time column the holdout stays in time order (not the file's): its consecutive
    # chunks stand for windows in the chunk rules, so they must cover time as windows do.
    held = order[cut:] if time_column is not None else np.sort(order[cut:])
    return frame.iloc[np.sort(order[:cut])], frame.iloc[held]


def _window_sizes(project: Project, frame: pd.DataFrame, time_column: str | None) -> list[int]:
    """The training data's commonest window sizes, when its rows have a time."""
    if time_column is None:
        return []
    return window_sizes(frame[time_column], project.settings.schedule.cadence())


def _scoring_flow(project: Project) -> Flow:
    """transforms -> predict: what scores the holdout (postprocess is for consumers)."""
    pipeline = project.pipeline
    return Flow("online", (*pipeline.transforms, pipeline.predict))


def _tags(project: Project, data_version: str) -> dict[str, str]:
    lineage = project.lineage(data_version=data_version)
    tags = {f"shipml.{key}": str(value) for key, value in lineage.items()}
    if "git_commit" in lineage:
        tags["mlflow.source.git.commit"] = str(lineage["git_commit"])
    return tags
