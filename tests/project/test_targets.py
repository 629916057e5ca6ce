"""The target decides the task; a label the task cannot take is one clear line, before any step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from typer.testing import CliRunner

from _task_projects import write_task_project
from shipml.cli import app
from shipml.config import TrainingSettings
from shipml.errors import TrainingError
from shipml.project.project import Project
from shipml.project.targets import Target, read_target
from shipml.project.training import train


def _settings(**values: object) -> TrainingSettings:
    return TrainingSettings(data=Path("train.csv"), target="y", **values)  # type: ignore[arg-type]


def _target(labels: object, **settings: object) -> Target:
    return read_target(pd.DataFrame({"x": 0.0, "y": labels}), _settings(**settings))


def test_classification_picks_binary_or_multiclass_from_the_number_of_classes() -> None:
    iris = datasets.load_iris()
    names = np.asarray(iris.target_names, dtype=object)[iris.target]

    multiclass = _target(names)
    binary = _target(np.where(iris.target == 0, "setosa", "other"))

    assert (multiclass.task, multiclass.classes) == (
        "multiclass",
        ("setosa", "versicolor", "virginica"),
    )
    assert (binary.task, binary.classes) == ("binary", ("other", "setosa"))


@pytest.mark.parametrize(
    ("labels", "positive", "said"),
    [
        ([True, False, False, False], True, "True"),
        ([1, 0, 0, 1, 0], 1, "1"),
        ([1.0, 0.0, 0.0], 1.0, "1.0"),
        (["no", "yes", "no", "no"], "yes", "'yes' (the minority class: 1 of 4 rows"),
        (["b", "a", "b", "a"], "b", "'b' (the minority class: 2 of 4 rows"),  # a tie: the last
        (pd.Categorical(["male", "female", "female"]), "male", "'male' (the minority class"),
    ],
)
def test_the_positive_class_defaults_to_true_one_or_the_minority(
    labels: object, positive: object, said: str
) -> None:
    target = _target(labels)

    assert target.task == "binary"
    assert target.positive == positive and type(target.positive) is type(positive)
    assert target.describe().startswith(f"task: binary on 'y', positive class {said}")


def test_a_configured_positive_label_is_matched_as_it_is_or_as_text() -> None:
    cancer = ["malignant", "benign", "benign"]

    assert _target(cancer, positive_label="benign").positive == "benign"
    assert _target(cancer, positive_label="Benign").positive == "benign"
    assert _target([0, 1, 1], positive_label="0").positive == 0  # from SHIPML_* text
    assert "([training] positive_label)" in _target(cancer, positive_label="benign").describe()


@pytest.mark.parametrize(
    ("classes", "positive", "values"),
    [
        ((0, 1), 1, pd.Series([1, 0, 1, None, 1.0, 0.0], dtype="float64")),
        ((0, 1), 1, pd.Series(["1", "0", "2", None], dtype="string[pyarrow]")),
        ((False, True), True, pd.Series([True, False, None], dtype="boolean")),
        (("benign", "malignant"), "malignant", pd.Series(["malignant", "benign", "other"])),
        (("benign", "malignant"), "benign", pd.Series(["benign", None], dtype="category")),
        ((0, 1), 1, pd.Series([], dtype="int64")),
    ],
)
def test_is_positive_reads_each_value_as_its_class_does(
    classes: tuple[object, ...], positive: object, values: pd.Series
) -> None:
    target = Target("y", "binary", classes, positive)

    expected = (target.as_classes(values) == positive).to_numpy(dtype=bool)
    assert target.is_positive(values).tolist() == expected.tolist()


def test_regression_keeps_the_target_as_numbers() -> None:
    diabetes = datasets.load_diabetes()

    target = _target(diabetes.target, task="regression")

    assert (target.task, target.classes, target.is_classifier) == ("regression", (), False)


@pytest.mark.parametrize(
    ("labels", "settings", "message"),
    [
        (
            np.random.default_rng(0).normal(100, 10, 500),
            {},
            "target 'y' holds measurements (500 distinct floats, e.g. ",
        ),
        (
            np.arange(500) % 200,
            {},
            "target 'y' has 200 distinct values in 500 rows (e.g. 0, 1, 2): too many for classes",
        ),
        (["benign"] * 20, {}, "target 'y' has a single class ('benign' in all 20 rows): a "),
        (["a", None, "b", None], {}, "target 'y' has 2 missing values in 4 rows (rows 1, 3): drop"),
        ([1.0, np.nan, 0.0], {"task": "regression"}, "target 'y' has 1 missing values in 3 rows"),
        ([1, "1", 2, 2] * 3, {}, "target 'y' mixes label types (int and str, e.g. 1, '1', 2)"),
        (["a", "b", "c"] * 3, {"task": "binary"}, "task = \"binary\" but target 'y' has 3 classes"),
        (
            ["a", "b"] * 3,
            {"task": "multiclass"},
            "task = \"multiclass\" but target 'y' has 2 classes",
        ),
        (
            ["a", "b"] * 3,
            {"positive_label": "c"},
            "positive_label 'c' is not a class of target 'y' ",
        ),
        (["a", "b", "c"] * 3, {"threshold": 0.3}, "[training] threshold is for binary targets"),
        (["a", "b", "c"], {"task": "regression"}, "target 'y' holds text (e.g. 'a', 'b', 'c'): "),
        ([True, False], {"task": "regression"}, "target 'y' is true/false, a classification"),
        ([3.0] * 5, {"task": "regression"}, "target 'y' has a single value (3.0 in all 5 rows)"),
    ],
)
def test_a_label_the_task_cannot_take_is_one_clear_line(
    labels: object, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(TrainingError) as raised:
        _target(labels, **settings)

    assert str(raised.value).startswith(message) or message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_target_column_names_the_columns() -> None:
    with pytest.raises(TrainingError, match=r"no target column 'y' \(columns: x, label\)"):
        read_target(pd.DataFrame({"x": [1.0], "label": [1]}), _settings())


def test_bad_labels_stop_training_before_any_step_runs(tmp_path: Path) -> None:
    data = write_task_project(tmp_path, "iris")
    frame = data.frame.assign(species=data.frame["species"].astype(object))
    frame.loc[[3, 40], "species"] = None
    frame.to_csv(tmp_path / "data" / "train.csv", index=False)
    project = Project.load(tmp_path)

    with pytest.raises(TrainingError, match="target 'species' has 2 missing values in 150 rows"):
        train(project)

    assert project.store.runs(kind="train") == []  # refused before a run was recorded
    outcome = CliRunner().invoke(app, ["train", "--project", str(tmp_path)])
    assert outcome.exit_code == 2
    assert (
        outcome.output.strip()
        .splitlines()[-1]
        .endswith(
            "target 'species' has 2 missing values in 150 rows (rows 3, 40): drop or label those "
            "rows before training"
        )
    )
