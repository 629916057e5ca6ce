"""The fast paths of wide frames: float columns read once, Literals over Arrow strings.

Each holds the verdicts to Pydantic's (the reference) and the reports to those of the paths
they bypass: the same string column in every storage (Arrow, Python, object, categorical)
gives the same report, and a float64 column the same as its float32 twin (the general path).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _pydantic_reference import rows_pydantic_rejects, rows_shipml_rejects
from pydantic import BaseModel, Field

from shipml.contracts import ValidationReport, validate
from shipml.contracts._numeric import extremes

SITES = ("site_0", "site_1", "site_2", "site_é")  # 6 and 7 bytes (é is two in UTF-8)


class Site(BaseModel):
    site: Literal["site_0", "site_1", "site_2", "site_é"]


class Code(BaseModel):
    code: Literal["A", "B", "AB", "ABCDEFGH", "ABCDEFGHI"]


def report_of(df: pd.DataFrame, model: type[BaseModel]) -> ValidationReport:
    return validate(df, model, policy="quarantine", max_invalid_fraction=1.0).report


def storages(values: list[Any]) -> dict[str, pd.Series]:
    """The same strings as each string dtype a frame may hold."""
    return {
        "str (pyarrow)": pd.Series(values, dtype=pd.StringDtype("pyarrow", na_value=np.nan)),
        "str (python)": pd.Series(values, dtype=pd.StringDtype("python", na_value=np.nan)),
        "string[pyarrow]": pd.Series(values, dtype="string[pyarrow]"),
        "object": pd.Series(values, dtype=object),
        "category": pd.Series(values, dtype="category"),
        "ArrowDtype(string)": pd.Series(values, dtype=pd.ArrowDtype(pa.string())),
        "ArrowDtype(large_string)": pd.Series(values, dtype=pd.ArrowDtype(pa.large_string())),
    }


VALUE_SETS = {
    "all known, one length": ["site_0", "site_1", "site_2"] * 30,
    "unknowns of the same length": ["site_0", "site_9", "site_1", "SITE_2", "site_0"] * 20,
    "unknowns of other lengths": ["site_0", "site_10", "site", "", "site_é"] * 20,
    "one length, none a choice": ["xx"] * 70,
    "a null": ["site_0", None, "site_1"] * 30,
    "a failure in the last row": ["site_0"] * 99 + ["site_3"],
    "a failure in the first row": ["site_3"] + ["site_0"] * 99,
}


@pytest.mark.parametrize("name", VALUE_SETS)
def test_a_literal_of_strings_gives_the_same_report_in_every_storage(name: str) -> None:
    values = VALUE_SETS[name]
    reports = {
        storage: report_of(pd.DataFrame({"site": column}), Site)
        for storage, column in storages(values).items()
    }
    expected = reports.pop("str (pyarrow)")
    for storage, report in reports.items():
        assert report == expected, storage
    frame = pd.DataFrame({"site": pd.Series(values, dtype="str")})
    assert rows_shipml_rejects(frame, Site) == rows_pydantic_rejects(frame, Site)


def test_long_codes_are_told_apart_by_their_last_character() -> None:
    for values in (["ABCDEFGH", "ABCDEFGX"] * 40, ["ABCDEFGHI", "ABCDEFGHX"] * 40):
        frame = pd.DataFrame({"code": pd.Series(values, dtype="str")})
        report = report_of(frame, Code)
        assert report.invalid_rows == 40
        assert [e.row for e in report.failures[0].examples] == [1, 3, 5, 7, 9]
        assert report == report_of(frame.astype({"code": object}), Code)


def test_a_chunked_and_sliced_arrow_column_is_read_at_its_offsets() -> None:
    chunks = pa.chunked_array(
        [
            pa.array(["A", "B", "C", "A"], type=pa.large_string()).slice(1),  # B C A
            pa.array(["B", "B", "D"], type=pa.large_string()),
            pa.array(["AB", "XX", "AB"], type=pa.large_string()),  # another length
        ]
    )
    column = pd.Series(pd.arrays.ArrowStringArray(chunks))
    report = report_of(pd.DataFrame({"code": column}), Code)
    assert {e.row for e in report.failures[0].examples} == {1, 5, 7}
    assert report.invalid_rows == 3


# ---------------------------------------------------------------- floats


class Measure(BaseModel):
    x: float | None = Field(ge=0, le=100)


class Required(BaseModel):
    x: float = Field(ge=0, le=100)


class Finite(BaseModel):
    x: float | None = Field(allow_inf_nan=False)


class Anything(BaseModel):
    x: float | None


class Positive(BaseModel):
    x: float = Field(gt=0, allow_inf_nan=False)


FLOAT_VALUES = {
    "clean with nulls": [1.0, np.nan, 50.0, 100.0, 0.0, -0.0] * 20,
    "out of bounds": [1.0, -0.5, 100.5, np.nan, 5.0] * 20,
    "infinities": [1.0, np.inf, -np.inf, np.nan, 0.5] * 20,
    "all null": [np.nan] * 70,
    "no null": [3.0, 4.0, 99.5] * 30,
}


@pytest.mark.parametrize("model", [Measure, Required, Finite, Anything, Positive])
@pytest.mark.parametrize("name", FLOAT_VALUES)
def test_a_float64_column_reports_as_the_general_path_does(
    name: str, model: type[BaseModel]
) -> None:
    values = np.array(FLOAT_VALUES[name])
    frame = pd.DataFrame({"x": values})
    report = report_of(frame, model)
    # float32 columns take the general path (null mask first, then the bounds)
    general = report_of(pd.DataFrame({"x": values.astype(np.float32)}), model)
    assert report.model_dump(exclude={"failures"}) == general.model_dump(exclude={"failures"})
    assert [(f.rule, f.count, [e.row for e in f.examples]) for f in report.failures] == [
        (f.rule, f.count, [e.row for e in f.examples]) for f in general.failures
    ]
    assert report.null_counts["x"] == int(np.isnan(values).sum())
    assert rows_shipml_rejects(frame, model) == rows_pydantic_rejects(frame, model)


@pytest.mark.parametrize("rows", [0, 1, 65_535, 65_536, 65_537, 200_000])
def test_extremes_and_nulls_are_those_of_the_whole_array(rows: int) -> None:
    values = np.random.default_rng(rows).uniform(-5, 5, rows)
    if rows > 1:
        values[np.random.default_rng(1).random(rows) < 0.01] = np.nan
        values[-1] = 7.5  # the highest in the last block
        values[rows // 2] = -7.5
    found = extremes(values)
    assert found.nans == int(np.isnan(values).sum())
    if rows > 1:
        assert (found.lowest, found.highest) == (-7.5, 7.5)
    assert extremes(np.full(rows, np.nan)).nans == rows
    assert np.isnan(extremes(np.full(rows, np.nan)).lowest)
    ints = np.arange(rows, dtype=np.int64)
    assert extremes(ints).nans == 0
    if rows:
        assert (extremes(ints).lowest, extremes(ints).highest) == (0, rows - 1)


def test_a_wide_float_column_finds_a_failure_in_any_block() -> None:
    values = np.random.default_rng(0).uniform(0, 100, 200_000)
    values[::97] = np.nan
    values[[3, 70_000, 199_999]] = [100.5, -1.0, np.inf]
    report = report_of(pd.DataFrame({"x": values}), Measure)
    assert report.invalid_rows == 3
    assert {(f.rule, tuple(e.row for e in f.examples)) for f in report.failures} == {
        ("less_than_equal", (3, 199_999)),
        ("greater_than_equal", (70_000,)),
    }
    assert report.null_counts == {"x": int(np.isnan(values).sum())}
