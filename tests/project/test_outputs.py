"""The prediction's columns are read from the predict step's output contract, before training."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
import pytest
from pydantic import BaseModel, Field

from shipml.config import TrainingSettings
from shipml.errors import TrainingError
from shipml.project.outputs import PredictionLayout, check_values, read_layout
from shipml.project.targets import Target

IRIS = Target("species", "multiclass", ("setosa", "versicolor", "virginica"))
CANCER = Target("diagnosis", "binary", ("benign", "malignant"), "malignant")
FAILURE = Target("failed", "binary", (False, True), True)
DIABETES = Target("progression", "regression")


class Row(BaseModel):
    id: int
    petal_length: float


class Species(BaseModel):
    id: int
    species: Literal["setosa", "versicolor", "virginica"]
    probability_setosa: float = Field(ge=0, le=1)
    probability_versicolor: float = Field(ge=0, le=1)
    probability_virginica: float = Field(ge=0, le=1)


class Diagnosis(BaseModel):
    id: int
    call: Literal["benign", "malignant"]  # not named like the target: found by its classes
    p_malignant: float


class Score(BaseModel):
    id: int
    petal_length: float  # carried from the input: never the prediction
    failure_probability: float


class Scored(BaseModel):
    id: int
    failure_probability: float
    failure_predicted: bool


class Progression(BaseModel):
    id: int
    progression: float
    lower: float | None = None


class ClassOnly(BaseModel):
    id: int
    probability_setosa: float


def _settings(**values: object) -> TrainingSettings:
    return TrainingSettings(data=Path("t.csv"), target="y", **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("output", "target", "settings", "expected"),
    [
        (
            Species,
            IRIS,
            {},
            PredictionLayout(
                "species",
                {c: f"probability_{c}" for c in ("setosa", "versicolor", "virginica")},
            ),
        ),
        (Diagnosis, CANCER, {}, PredictionLayout("call", {"malignant": "p_malignant"})),
        (Score, FAILURE, {}, PredictionLayout(None, {True: "failure_probability"}, unnamed=True)),
        (
            Scored,
            FAILURE,
            {"prediction": "failure_probability"},
            PredictionLayout("failure_predicted", {True: "failure_probability"}, unnamed=True),
        ),
        (Progression, DIABETES, {}, PredictionLayout("progression")),
        (Progression, DIABETES, {"prediction": "lower"}, PredictionLayout("lower")),
    ],
)
def test_the_layout_is_read_from_the_contract(
    output: type[BaseModel],
    target: Target,
    settings: dict[str, object],
    expected: PredictionLayout,
) -> None:
    assert read_layout(output, Row, target, _settings(**settings)) == expected


def test_a_probability_prefix_can_be_named() -> None:
    layout = read_layout(Diagnosis, Row, CANCER, _settings(probabilities="p_"))

    assert layout.probabilities == {"malignant": "p_malignant"}
    with pytest.raises(TrainingError, match="Diagnosis has no column 'prob_malignant'"):
        read_layout(Diagnosis, Row, CANCER, _settings(probabilities="prob_"))


@pytest.mark.parametrize(
    ("output", "target", "settings", "message"),
    [
        (ClassOnly, IRIS, {}, "ClassOnly has no column for the predicted class of 'species'"),
        (Row, CANCER, {}, "Row has neither a column for the predicted class of 'diagnosis' nor"),
        (Species, IRIS, {"prediction": "label"}, "[training] prediction 'label' is not a column"),
        (Row, DIABETES, {}, "cannot tell which column of Row is the prediction"),
    ],
)
def test_a_contract_without_the_prediction_is_refused(
    output: type[BaseModel], target: Target, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(TrainingError) as raised:
        read_layout(output, Row, target, _settings(**settings))

    assert str(raised.value).startswith(message)


def test_predicted_values_must_be_classes_and_probabilities() -> None:
    layout = read_layout(Species, Row, IRIS, _settings())
    good = pd.DataFrame(
        {
            "species": ["setosa", "virginica"],
            "probability_setosa": [0.9, 0.1],
            "probability_versicolor": [0.05, 0.1],
            "probability_virginica": [0.05, 0.8],
        }
    )
    check_values(layout, IRIS, good)

    encoded = good.assign(species=[0, 2])  # a label-encoded model whose classes were not decoded
    with pytest.raises(TrainingError) as raised:
        check_values(layout, IRIS, encoded)
    assert str(raised.value) == (
        "predict's 'species' holds values that are not classes of target 'species': 0, 2 "
        "(its classes: 'setosa', 'versicolor', 'virginica')"
    )
    with pytest.raises(TrainingError, match="'probability_setosa' holds 1 values that are not"):
        check_values(layout, IRIS, good.assign(probability_setosa=[0.9, 1.5]))
