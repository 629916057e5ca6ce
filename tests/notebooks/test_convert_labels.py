"""Converted notebooks with string labels train: a yes/no churn label, and iris's species names."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

from shipml.notebooks.convert import convert_notebook
from shipml.project.batch import run_window
from shipml.project.project import Project
from shipml.project.training import TrainingOutcome, train
from shipml.scaffold import WINDOW, WINDOW_START
from shipml.windows import Window

from .helpers import FIXTURES

CHURN = FIXTURES / "clean_classification"


def _notebook(cells: list[tuple[str, str]]) -> dict[str, object]:
    return {
        "cells": [
            {"cell_type": kind, "metadata": {}, "source": source}
            | ({"outputs": [], "execution_count": None} if kind == "code" else {})
            for kind, source in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _train_and_score(directory: Path) -> tuple[TrainingOutcome, pd.DataFrame]:
    project = Project.load(directory)
    trained = train(project)
    project.tracker.promote(trained.model.version)
    scored = run_window(project, Window(WINDOW_START, WINDOW_START + WINDOW))
    assert scored.status == "succeeded" and scored.output is not None
    return trained, pd.read_parquet(scored.output)


def test_a_churn_notebook_with_yes_no_labels_becomes_a_project_that_trains(
    tmp_path: Path,
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    customers = pd.read_csv(CHURN / "customers.csv")
    customers.assign(churned=np.where(customers["churned"] == 1, "yes", "no")).to_csv(
        source / "customers.csv", index=False
    )
    notebook = json.loads((CHURN / "churn.ipynb").read_text())
    for cell in notebook["cells"]:  # its evaluation cell compares 0/1 labels with booleans
        text = "".join(cell["source"])
        if "accuracy_score(y_test" in text:
            cell["source"] = "test_probabilities = model.predict_proba(X_test)[:, 1]\n"
    (source / "churn.ipynb").write_text(json.dumps(notebook))

    conversion = convert_notebook(source / "churn.ipynb", tmp_path / "churn")
    trained, scored = _train_and_score(conversion.directory)

    assert conversion.verification is not None and conversion.verification.passed
    assert trained.task == "binary"
    assert "task: binary on 'churned', positive class 'yes'" in trained.notes[0]
    assert 0.5 < trained.metrics["roc_auc"] <= 1
    assert scored["churn_probability"].between(0, 1).all()


@pytest.fixture
def iris_notebook(tmp_path: Path) -> Path:
    """A notebook predicting iris species by name with `model.predict`."""
    iris = load_iris(as_frame=True)
    flowers = iris.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    flowers.insert(0, "flower_id", [f"F{i:03d}" for i in range(len(flowers))])
    flowers["species"] = np.asarray(iris.target_names, dtype=object)[iris.target]
    source = tmp_path / "source"
    source.mkdir()
    flowers.to_csv(source / "flowers.csv", index=False)
    cells = [
        ("markdown", "# Iris species"),
        ("markdown", "## Load data"),
        ("code", "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression\n"
                 "from sklearn.model_selection import train_test_split"),
        ("code", 'flowers = pd.read_csv("flowers.csv")'),
        ("markdown", "## Features"),
        ("code", 'MEASURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]\n\n\n'
                 "def featurize(frame: pd.DataFrame) -> pd.DataFrame:\n"
                 '    """The four measures as floats."""\n'
                 "    return frame[MEASURES].astype(float)\n\n\n"
                 'features = featurize(flowers)\ntarget = flowers["species"]'),
        ("markdown", "## Train"),
        ("code", "X_train, X_test, y_train, y_test = train_test_split(\n"
                 "    features, target, test_size=0.25, random_state=0, stratify=target\n)\n"
                 "model = LogisticRegression(max_iter=1000).fit(X_train, y_train)"),
        ("markdown", "## Predict"),
        ("code", "def predict(classifier: LogisticRegression, frame: pd.DataFrame)"
                 " -> pd.DataFrame:\n"
                 '    """The species of each flower in `frame`."""\n'
                 "    species = classifier.predict(featurize(frame))\n"
                 '    return pd.DataFrame({"flower_id": frame["flower_id"], '
                 '"species_predicted": species})\n\n\n'
                 "predict(model, flowers.sample(5, random_state=1))"),
    ]  # fmt: skip
    (source / "iris.ipynb").write_text(json.dumps(_notebook(cells)))
    return source / "iris.ipynb"


def test_a_multiclass_notebook_with_string_classes_becomes_a_project_that_trains(
    iris_notebook: Path, tmp_path: Path
) -> None:
    conversion = convert_notebook(iris_notebook, tmp_path / "iris")
    trained, scored = _train_and_score(conversion.directory)

    assert conversion.verification is not None and conversion.verification.passed
    assert trained.task == "multiclass"
    assert trained.metrics["accuracy"] > 0.9 and "recall.virginica" in trained.metrics
    assert set(scored["species_predicted"]) <= {"setosa", "versicolor", "virginica"}
