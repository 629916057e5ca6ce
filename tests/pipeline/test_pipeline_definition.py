"""A pipeline names its roles; misconfigured pipelines fail when defined, with a clear message."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import pytest
from pydantic import BaseModel

from shipml import Pipeline, Table
from shipml.pipeline import PipelineDefinitionError


class Reading(BaseModel):
    machine: str
    temperature: float | None


class Clean(BaseModel):
    machine: str
    temperature: float


class Labelled(Clean):
    failed: bool


class Scored(BaseModel):
    machine: str
    risk: float


class Ticket(BaseModel):
    machine: str
    level: Literal["low", "high"]


def preprocess(readings: Table[Reading]) -> Table[Clean]:
    return readings.fillna({"temperature": 20.0})


def train(rows: Table[Labelled]) -> object:
    return object()


def predict(rows: Table[Clean], model: object) -> Table[Scored]:
    return rows.assign(risk=rows["temperature"] / 100)[["machine", "risk"]]


def postprocess(scored: Table[Scored]) -> Table[Ticket]:
    return scored.assign(level=["high" if r > 0.5 else "low" for r in scored["risk"]])


def test_one_definition_yields_three_flows_sharing_the_transforms() -> None:
    pipeline = Pipeline(
        "sensors",
        transforms=[preprocess],
        train=train,
        predict=predict,
        postprocess=postprocess,
        target="failed",
    )
    names = {
        flow: [s.name for s in pipeline.flow(flow).steps]
        for flow in ("training", "batch", "online")
    }
    assert names == {
        "training": ["preprocess", "train"],
        "batch": ["preprocess", "predict", "postprocess"],
        "online": ["preprocess", "predict", "postprocess"],
    }
    assert pipeline.training.steps[0] is pipeline.online.steps[0]
    assert pipeline.online.input is Reading
    assert pipeline.online.output is Ticket


def test_a_missing_role_is_named() -> None:
    with pytest.raises(PipelineDefinitionError, match="missing role predict"):
        Pipeline("p", transforms=[preprocess], train=train)


def test_an_incompatible_boundary_says_which_field() -> None:
    def predict_needs_pressure(rows: Table[Scored], model: object) -> Table[Scored]:
        return rows

    with pytest.raises(PipelineDefinitionError, match="preprocess -> predict_needs_pressure"):
        Pipeline("p", transforms=[preprocess], train=train, predict=predict_needs_pressure)


def test_a_nullable_field_feeding_a_required_one_is_incompatible() -> None:
    def passthrough(readings: Table[Reading]) -> Table[Reading]:
        return readings

    with pytest.raises(PipelineDefinitionError, match="'temperature' may be null"):
        Pipeline("p", transforms=[passthrough], train=train, predict=predict)


def test_a_step_used_twice_is_a_cycle() -> None:
    def clean_again(rows: Table[Clean]) -> Table[Clean]:
        return rows

    with pytest.raises(PipelineDefinitionError, match="appears twice"):
        Pipeline(
            "p", transforms=[preprocess, clean_again, clean_again], train=train, predict=predict
        )


def test_a_step_without_contracts_is_refused() -> None:
    def untyped(rows: pd.DataFrame) -> pd.DataFrame:
        return rows

    with pytest.raises(PipelineDefinitionError, match=r"untyped.*Table\[Model\]"):
        Pipeline("p", transforms=[untyped], train=train, predict=predict)


def test_predict_must_take_the_model() -> None:
    def predict_without_model(rows: Table[Clean]) -> Table[Scored]:
        return rows

    with pytest.raises(PipelineDefinitionError, match="needs a `model` parameter"):
        Pipeline("p", transforms=[preprocess], train=train, predict=predict_without_model)
