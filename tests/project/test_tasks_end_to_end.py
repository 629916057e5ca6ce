"""Every task on scikit-learn's own data: train, promote, score a batch window, serve /predict.

iris and wine (multiclass, string class names), breast cancer ("malignant"/"benign", threshold
picked for F1), a synthetic 1%-positive problem (0/1 labels, Youden's threshold) and diabetes
(regression). Each metric shipml logs is scikit-learn's on the same holdout, scored here by
calling the project's steps as plain functions; each shows in `shipml models` and in MLflow.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn
from fastapi import FastAPI
from sklearn import metrics as sk
from typer.testing import CliRunner

from _task_projects import WINDOW, WINDOW_START, TaskData, write_task_project
from shipml.cli import app
from shipml.contracts.reading import read_table
from shipml.project.project import Project
from shipml.project.training import split_holdout
from shipml.serving import create_app

DATASETS = ["iris", "wine", "breast_cancer", "rare", "diabetes"]


@dataclass(frozen=True)
class Trained:
    """A task project trained and promoted through the CLI, and what `shipml train` printed."""

    directory: Path
    data: TaskData
    outcome: dict[str, Any]

    @property
    def project(self) -> Project:
        """The project, loaded afresh."""
        return Project.load(self.directory)


def shipml(*arguments: str) -> dict[str, Any] | list[Any]:
    """Run a CLI command with --json; its parsed output (the command must succeed)."""
    outcome = CliRunner().invoke(app, [*arguments, "--json"])
    assert outcome.exit_code == 0, outcome.output
    parsed: dict[str, Any] | list[Any] = json.loads(outcome.stdout)
    return parsed


@pytest.fixture(scope="module", params=DATASETS)
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    directory = tmp_path_factory.mktemp(request.param)
    data = write_task_project(directory, request.param)
    outcome = shipml("train", "--project", str(directory), "--promote", "champion")
    assert isinstance(outcome, dict)
    return Trained(directory, data, outcome)


def _holdout_scored(trained: Trained) -> tuple[pd.Series, pd.DataFrame, float]:
    """The holdout's truth, and the champion's predictions of it through the project's steps."""
    project = trained.project
    settings = project.settings.training
    assert settings is not None
    _, holdout = split_holdout(
        read_table(settings.data), settings.holdout_fraction, settings.time_column
    )
    champion = project.tracker.load("champion")
    prepare, predict = project.pipeline.transforms[0], project.pipeline.predict
    rows = prepare(holdout.drop(columns=[trained.data.label]))
    predictions = predict(rows, champion.model, champion.threshold)
    return holdout[trained.data.label], predictions, champion.threshold


def _expected(trained: Trained, truth: pd.Series, predictions: pd.DataFrame) -> dict[str, float]:
    """The task's metrics, each computed here with scikit-learn."""
    data = trained.data
    if data.task == "regression":
        predicted = predictions[data.label]
        return {
            "rmse": sk.root_mean_squared_error(truth, predicted),
            "mae": sk.mean_absolute_error(truth, predicted),
            "r2": sk.r2_score(truth, predicted),
            "mape": sk.mean_absolute_percentage_error(truth, predicted),
        }
    if data.task == "binary":
        actual = truth == data.positive
        probability = predictions[
            "score" if data.name == "rare" else f"probability_{data.positive}"
        ]
        decided = predictions[data.label] == data.positive
        return {
            "roc_auc": sk.roc_auc_score(actual, probability),
            "average_precision": sk.average_precision_score(actual, probability),
            "log_loss": sk.log_loss(actual, probability),
            "brier": sk.brier_score_loss(actual, probability),
            "precision": sk.precision_score(actual, decided),
            "recall": sk.recall_score(actual, decided),
            "f1": sk.f1_score(actual, decided),
            "balanced_accuracy": sk.balanced_accuracy_score(actual, decided),
            "accuracy": sk.accuracy_score(actual, decided),
            "positive_rate": actual.mean(),
        }
    classes = list(data.classes)
    predicted = predictions[data.label]
    matrix = predictions[[f"probability_{c}" for c in classes]].to_numpy()
    expected = {
        "accuracy": sk.accuracy_score(truth, predicted),
        "balanced_accuracy": sk.balanced_accuracy_score(truth, predicted),
        "f1_macro": sk.f1_score(truth, predicted, average="macro"),
        "f1_weighted": sk.f1_score(truth, predicted, average="weighted"),
        "log_loss": sk.log_loss(truth, matrix, labels=classes),
        "roc_auc_ovr": sk.roc_auc_score(truth, matrix, multi_class="ovr", labels=classes),
    }
    precision = sk.precision_score(truth, predicted, labels=classes, average=None, zero_division=0)
    recall = sk.recall_score(truth, predicted, labels=classes, average=None, zero_division=0)
    for label, p, r in zip(classes, precision, recall, strict=True):
        expected[f"precision.{label}"], expected[f"recall.{label}"] = p, r
    return expected


def test_each_metric_is_scikit_learns_on_the_same_holdout_in_the_cli_models_and_mlflow(
    trained: Trained,
) -> None:
    from mlflow import MlflowClient

    truth, predictions, _ = _holdout_scored(trained)
    expected = pytest.approx(_expected(trained, truth, predictions), rel=1e-9, abs=1e-12)

    assert trained.outcome["task"] == trained.data.task
    assert trained.outcome["metrics"] == expected
    versions = shipml("models", "--project", str(trained.directory))
    assert isinstance(versions, list) and versions[0]["aliases"] == ["champion"]
    assert versions[0]["metrics"] == expected
    tracking = trained.project.settings.tracking.uri
    run = MlflowClient(tracking_uri=tracking).get_run(trained.outcome["model"]["run_id"])
    assert run.data.metrics == expected
    assert run.data.params["task"] == trained.data.task


def test_classifiers_log_their_confusion_matrix_to_mlflow(trained: Trained, tmp_path: Path) -> None:
    import mlflow.artifacts
    from mlflow import MlflowClient

    tracking = trained.project.settings.tracking.uri
    run_id = trained.outcome["model"]["run_id"]
    logged = {f.path for f in MlflowClient(tracking_uri=tracking).list_artifacts(run_id, "shipml")}
    if trained.data.task == "regression":
        # no classes, no confusion matrix; the holdout is kept for the promotion gate
        assert logged == {"shipml/baseline.json", "shipml/holdout.parquet"}
        return
    assert logged >= {"shipml/confusion_matrix.json", "shipml/confusion_matrix.csv"}
    truth, predictions, _ = _holdout_scored(trained)
    path = mlflow.artifacts.download_artifacts(
        run_id=run_id,
        artifact_path="shipml/confusion_matrix.json",
        dst_path=str(tmp_path),
        tracking_uri=tracking,
    )

    classes = list(trained.data.classes)
    counts = sk.confusion_matrix(truth, predictions[trained.data.label], labels=classes)
    assert json.loads(Path(path).read_text()) == {
        "classes": classes,
        "rows_are": "truth",
        "counts": counts.tolist(),
    }


def test_the_threshold_is_stored_with_the_version_and_decides_batch_outputs(
    trained: Trained,
) -> None:
    data = trained.data
    windows = shipml(
        "run", "--project", str(trained.directory),
        "--start", WINDOW_START.isoformat(), "--end", (WINDOW_START + WINDOW).isoformat(),
    )  # fmt: skip
    assert isinstance(windows, list) and len(windows) == 1
    output = windows[0]
    assert output["status"] == "succeeded", output
    scored = pd.read_parquet(output["output"])

    assert len(scored) == 60
    if data.task == "regression":
        assert scored[data.label].dtype == float
        return
    assert set(scored[data.label]) <= set(data.classes)
    champion = trained.project.tracker.resolve("champion")
    assert champion.task == data.task and champion.classes == list(data.classes)
    if data.task == "multiclass":
        probabilities = scored[[f"probability_{c}" for c in data.classes]]
        assert np.allclose(probabilities.sum(axis=1), 1)
        return
    threshold = trained.outcome["threshold"]
    assert champion.threshold == threshold and champion.positive_label == data.positive
    probability = scored["score" if data.name == "rare" else f"probability_{data.positive}"]
    assert ((scored[data.label] == data.positive) == (probability >= threshold)).all()


@contextmanager
def _serving(fastapi_app: FastAPI) -> Iterator[str]:
    """uvicorn on a free port of 127.0.0.1, in a thread; yields its base URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(fastapi_app, log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 300
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        listener.close()


def test_predict_answers_labels_and_probabilities_as_the_contract_says(
    trained: Trained,
) -> None:
    data = trained.data
    window = pd.read_csv(
        trained.directory / "data" / "windows" / f"rows_{WINDOW_START:%Y%m%dT%H%M}.csv"
    )
    records = window.head(3).to_dict(orient="records")
    project = trained.project
    champion = project.tracker.load("champion")
    expected = project.pipeline.predict(
        project.pipeline.transforms[0](window.head(3)), champion.model, champion.threshold
    )

    with _serving(create_app(project)) as url:
        answer = httpx.post(f"{url}/predict", json=records, timeout=60).json()
        documented = httpx.get(f"{url}/openapi.json", timeout=60).json()

    predictions = pd.DataFrame(answer["predictions"])
    assert answer["model"]["version"] == champion.ref.version
    assert set(predictions.columns) == set(expected.columns)
    assert predictions[data.label].tolist() == expected[data.label].tolist()
    for column in expected.columns.drop(["id", data.label]):
        assert predictions[column].to_numpy() == pytest.approx(expected[column].to_numpy())
    example = documented["paths"]["/predict"]["post"]["responses"]["200"]["content"]
    shown = example["application/json"]["example"]["predictions"][0]
    assert set(shown) == set(expected.columns)  # the docs show the label and probabilities
