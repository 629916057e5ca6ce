"""Property: small frames (one Pydantic call) get exactly what the columnar checks give."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, create_model

from shipml.contracts import _small as small
from shipml.contracts import validate

# Each kind: the Pydantic annotation with optional bounds, the frame dtype that fits it, values.
FLOATS = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False), st.just(math.nan), st.just(math.inf), st.just(-0.0)
)
KINDS: dict[str, tuple[Any, str, st.SearchStrategy[Any]]] = {
    "float": (float, "float64", FLOATS),
    "int": (int, "int64", st.integers(-(2**40), 2**40)),
    "bool": (bool, "bool", st.booleans()),
    "str": (str, "str", st.one_of(st.sampled_from(["", "a", "abc", "x y"]), st.none())),
}


@st.composite
def models_and_frames(draw: st.DrawFn) -> tuple[type[BaseModel], pd.DataFrame]:
    names = draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=4, unique=True))
    rows = draw(st.integers(0, 8))
    fields: dict[str, Any] = {}
    columns: dict[str, pd.Series] = {}
    for name in names:
        kind = draw(st.sampled_from(sorted(KINDS)))
        annotation, dtype, values = KINDS[kind]
        constraint: dict[str, Any] = {}
        if kind in ("float", "int") and draw(st.booleans()):
            constraint = {"ge": draw(st.integers(-100, 0)), "le": draw(st.integers(0, 100))}
        if kind == "str" and draw(st.booleans()):
            constraint = {"min_length": 1}
        optional = draw(st.booleans())
        fields[name] = (annotation | None if optional else annotation, Field(**constraint))
        columns[name] = pd.Series(draw(st.lists(values, min_size=rows, max_size=rows)), dtype=dtype)
    model = create_model("Drawn", **fields)
    return model, pd.DataFrame(columns, index=pd.RangeIndex(rows))


def _columnar(df: pd.DataFrame, model: type[BaseModel], monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(small, "SMALL_FRAME_ROWS", -1)
        return validate(df, model, policy="quarantine", max_invalid_fraction=1.0)


@settings(max_examples=300, deadline=None)
@given(models_and_frames())
def test_a_small_frame_gets_what_the_columnar_checks_give(
    drawn: tuple[type[BaseModel], pd.DataFrame],
) -> None:
    model, df = drawn
    with pytest.MonkeyPatch.context() as monkeypatch:
        expected = _columnar(df, model, monkeypatch)
    got = validate(df, model, policy="quarantine", max_invalid_fraction=1.0)

    pd.testing.assert_frame_equal(got.valid, expected.valid)
    pd.testing.assert_frame_equal(got.quarantined, expected.quarantined)
    assert got.report.model_dump() == expected.report.model_dump()


class Reading(BaseModel):
    temperature_c: float = Field(ge=-50, le=150)
    vibration_mm_s: float | None = None


def test_one_valid_record_takes_the_small_frame_path() -> None:
    df = pd.DataFrame({"temperature_c": [21.5], "vibration_mm_s": [np.nan]})
    found = small.check_small_frame(df, _compiled(Reading))
    assert found is not None and found.null_counts == {"temperature_c": 0, "vibration_mm_s": 1}
    result = validate(df, Reading)
    assert result.report.ok and result.report.null_counts == {
        "temperature_c": 0,
        "vibration_mm_s": 1,
    }
    assert result.valid is not df and result.valid.equals(df)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"temperature_c": [999.0], "vibration_mm_s": [1.0]}),  # a row breaks a rule
        pd.DataFrame({"temperature_c": [21], "vibration_mm_s": [1.0]}),  # int64: converted
        pd.DataFrame({"vibration_mm_s": [1.0], "temperature_c": [21.5]}),  # another order
        pd.DataFrame({"temperature_c": [21.5] * 65, "vibration_mm_s": [1.0] * 65}),  # not small
    ],
)
def test_anything_else_goes_the_columnar_way(frame: pd.DataFrame) -> None:
    assert small.check_small_frame(frame, _compiled(Reading)) is None


def _compiled(model: type[BaseModel]) -> Any:
    from shipml.contracts._compile import compile_contract

    return compile_contract(model)
