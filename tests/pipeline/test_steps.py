"""`@step` reads contracts from annotations and leaves the function callable as is."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import BaseModel

from shipml import Table, step
from shipml.pipeline import StepDefinitionError


class Raw(BaseModel):
    x: float


class Doubled(BaseModel):
    x: float
    doubled: float


@step
def double(raw: Table[Raw]) -> Table[Doubled]:
    """Add a doubled column."""
    return raw.assign(doubled=raw["x"] * 2)


def test_a_step_is_still_a_plain_function() -> None:
    out = double(pd.DataFrame({"x": [1.0, 2.0]}))
    assert out["doubled"].tolist() == [2.0, 4.0]
    assert double.__name__ == "double"
    assert double.__doc__ == "Add a doubled column."


def test_contracts_come_from_the_annotations() -> None:
    assert double.input is Raw
    assert double.output is Doubled
    assert double.data_parameter == "raw"
    assert double.context_parameters == ()


def test_context_parameters_are_recognised_by_name() -> None:
    @step
    def predict(features: Table[Raw], model: object) -> Table[Doubled]:
        return features

    assert predict.context_parameters == ("model",)


def test_an_ingest_step_has_no_data_parameter() -> None:
    @step
    def ingest(window: object) -> Table[Raw]:
        return pd.DataFrame({"x": [1.0]})

    assert ingest.data_parameter is None
    assert ingest.output is Raw


def test_an_unknown_extra_parameter_is_refused_with_its_name() -> None:
    def fit(features: Table[Raw], learning_rate: float) -> object:
        return None

    with pytest.raises(StepDefinitionError, match="'learning_rate'"):
        step(fit)
