"""Projects on scikit-learn's bundled data sets, one per task, written for end-to-end tests.

- iris, wine: multiclass, the classes mapped to their string names;
- breast_cancer: binary with "malignant"/"benign", threshold picked for F1 on the holdout;
- rare: a synthetic binary problem with 1% positives (0/1 labels), Youden's threshold;
- diabetes: regression.

Each project has an `id` column, a transform, a train step and a predict step whose
contract carries the predicted class and one probability column per class (the rare one
carries its positive class's score only), and one batch window of input rows.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets

WINDOW_START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
# Labels keyed by the task data's `id`, read from data/labels.csv by `labelled_at`, which
# tests set to LABELLED_AT (hours after the window: late labels).
LABELS = """
[labels]
key = ["id"]
min_labels = 20

[labels.source]
kind = "files"
path = "data/labels.csv"
time_column = "labelled_at"
"""
LABELLED_AT = WINDOW_START + timedelta(hours=6)


@dataclass(frozen=True)
class TaskData:
    """A data set as a frame with an `id`, identifier-named features and the label."""

    name: str
    frame: pd.DataFrame
    label: str
    task: str  # binary, multiclass or regression
    classes: tuple[object, ...] = ()
    positive: object = None
    settings: str = ""  # extra [training] lines

    @property
    def features(self) -> list[str]:
        """The feature columns."""
        return [c for c in self.frame.columns if c not in ("id", self.label)]


def _identifier(name: str) -> str:
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", name.lower())).strip("_")


def _bunch(name: str, loader: object, label: str, names: list[str] | None) -> pd.DataFrame:
    bunch = loader(as_frame=True)  # type: ignore[operator]
    frame = bunch.data.rename(columns=_identifier)
    target = bunch.target
    values = np.asarray(names, dtype=object)[target.to_numpy()] if names else target
    return frame.assign(**{label: values}).reset_index(drop=True).rename_axis(None)


def load(name: str) -> TaskData:
    """The data set called `name` (iris, wine, breast_cancer, rare, diabetes)."""
    if name == "iris":
        frame = _bunch(name, datasets.load_iris, "species", ["setosa", "versicolor", "virginica"])
        return _with_id(
            TaskData(name, frame, "species", "multiclass", ("setosa", "versicolor", "virginica"))
        )
    if name == "wine":
        names = ["barolo", "grignolino", "barbera"]
        frame = _bunch(name, datasets.load_wine, "cultivar", names)
        return _with_id(TaskData(name, frame, "cultivar", "multiclass", tuple(sorted(names))))
    if name == "breast_cancer":
        frame = _bunch(name, datasets.load_breast_cancer, "diagnosis", ["malignant", "benign"])
        return _with_id(
            TaskData(
                name, frame, "diagnosis", "binary", ("benign", "malignant"), "malignant",
                settings='threshold = "f1"',
            )
        )  # fmt: skip
    if name == "rare":
        x, y = datasets.make_classification(
            n_samples=6000, n_features=6, n_informative=4, weights=[0.99], flip_y=0, random_state=3
        )
        frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(6)]).assign(fraud=y)
        return _with_id(
            TaskData(name, frame, "fraud", "binary", (0, 1), 1, settings='threshold = "youden"')
        )
    if name == "diabetes":
        frame = _bunch(name, datasets.load_diabetes, "progression", None)
        return _with_id(
            TaskData(name, frame, "progression", "regression", settings='task = "regression"')
        )
    raise ValueError(name)


def _with_id(data: TaskData) -> TaskData:
    frame = data.frame.copy()
    frame.insert(0, "id", np.arange(len(frame)))
    return TaskData(**{**data.__dict__, "frame": frame})


def _literal(classes: tuple[object, ...]) -> str:
    return f"Literal[{', '.join(repr(c) for c in classes)}]"


def contracts_source(data: TaskData) -> str:
    """contracts.py: the input row, the labelled row, the features and the prediction."""
    features = "\n".join(f"    {name}: float" for name in data.features)
    if data.task == "regression":
        label_type, outputs = "float", f"    {data.label}: float"
    elif data.name == "rare":
        label_type = "int"
        outputs = f"    {data.label}: int\n    score: float = Field(ge=0, le=1)"
    else:
        label_type = _literal(data.classes)
        probabilities = "\n".join(
            f"    probability_{c}: float = Field(ge=0, le=1)" for c in data.classes
        )
        outputs = f"    {data.label}: {label_type}\n{probabilities}"
    return (
        "from typing import Literal\n\nfrom pydantic import BaseModel, Field\n\n\n"
        f"class Row(BaseModel):\n    id: int\n{features}\n\n\n"
        f"class Labelled(Row):\n    {data.label}: {label_type}\n\n\n"
        f"class Prediction(BaseModel):\n    id: int\n{outputs}\n"
    )


STEPS = '''
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from contracts import Labelled, Prediction, Row
from shipml import Table, step

FEATURES = {features!r}
LABEL = {label!r}
TASK = {task!r}
POSITIVE = {positive!r}


@step
def prepare(rows: Table[Row]) -> Table[Row]:
    """Rows as they come (a transform, so that training and scoring share one)."""
    return rows


@step
def train(rows: Table[Labelled]) -> object:
    """A scaled linear model of the label."""
    if TASK == "regression":
        return make_pipeline(StandardScaler(), Ridge()).fit(rows[FEATURES], rows[LABEL])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return model.fit(rows[FEATURES], rows[LABEL])


@step
def predict(rows: Table[Row], model: object, threshold: float) -> Table[Prediction]:
    """The predicted value, or class and class probabilities, in the rows' order."""
    out = pd.DataFrame({{"id": rows["id"]}}, index=rows.index)
    if TASK == "regression":
        return out.assign(**{{LABEL: model.predict(rows[FEATURES]) if len(rows) else []}})
    classes = list(model.classes_)
    probability = model.predict_proba(rows[FEATURES]) if len(rows) else np.empty((0, len(classes)))
    if {lone_score!r}:
        score = probability[:, classes.index(POSITIVE)]
        other = next(c for c in classes if c != POSITIVE)
        return out.assign(score=score, **{{LABEL: np.where(score >= threshold, POSITIVE, other)}})
    for position, name in enumerate(classes):
        out[f"probability_{{name}}"] = probability[:, position]
    if TASK == "binary":
        other = next(c for c in classes if c != POSITIVE)
        decided = probability[:, classes.index(POSITIVE)] >= threshold
        return out.assign(**{{LABEL: np.where(decided, POSITIVE, other)}})
    return out.assign(**{{LABEL: np.asarray(classes, dtype=object)[probability.argmax(axis=1)]}})
'''

PIPELINE = """
from shipml import Pipeline
from steps import LABEL, predict, prepare, train

pipeline = Pipeline({name!r}, transforms=[prepare], train=train, predict=predict, target=LABEL)
"""


def write_task_project(directory: Path, name: str, *, extra_settings: str = "") -> TaskData:
    """Write the project of data set `name` into `directory`; return its data."""
    data = load(name)
    directory.mkdir(parents=True, exist_ok=True)
    steps = STEPS.format(
        features=data.features,
        label=data.label,
        task=data.task,
        positive=data.positive,
        lone_score=name == "rare",
    )
    (directory / "contracts.py").write_text(contracts_source(data))
    (directory / "steps.py").write_text(textwrap.dedent(steps).lstrip())
    (directory / "pipeline.py").write_text(PIPELINE.format(name=name).lstrip())
    (directory / "shipml.toml").write_text(
        f'[project]\nname = "{name}"\n\n'
        '[source]\nkind = "files"\npath = "data/windows/rows_{start:%Y%m%dT%H%M}.csv"\n\n'
        f'[training]\ndata = "data/train.csv"\ntarget = "{data.label}"\n{data.settings}\n'
        f"{extra_settings}\n"
    )
    (directory / "data" / "windows").mkdir(parents=True, exist_ok=True)
    data.frame.to_csv(directory / "data" / "train.csv", index=False)
    window = data.frame.sample(n=min(60, len(data.frame)), random_state=1).drop(
        columns=[data.label]
    )
    window.to_csv(
        directory / "data" / "windows" / f"rows_{WINDOW_START:%Y%m%dT%H%M}.csv", index=False
    )
    return data
