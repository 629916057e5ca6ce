"""Cases where a columnar engine easily parts from Pydantic; each must agree with it.

Each test compares `validate()` with `Model.model_validate(record)` row by row (the reference
in `_pydantic_reference`), and checks the values the valid rows carry.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum, IntFlag, StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from _pydantic_reference import rows_pydantic_rejects, rows_shipml_rejects
from pydantic import AfterValidator, BaseModel, Field, ValidationInfo

from shipml.contracts import validate


def _agrees(df: pd.DataFrame, model: type[BaseModel]) -> set[int]:
    """The rows both reject (asserting they reject the same ones)."""
    rejected = rows_pydantic_rejects(df, model)
    assert rows_shipml_rejects(df, model) == rejected
    return rejected


def _valid(df: pd.DataFrame, model: type[BaseModel]) -> pd.DataFrame:
    return validate(df, model, policy="quarantine", max_invalid_fraction=1.0).valid


# --- 1. pyarrow date columns ----------------------------------------------------------------


class Delivery(BaseModel):
    day: date | None
    at: datetime


@pytest.mark.parametrize("dtype", ["date32[day][pyarrow]", "date64[pyarrow]"])
def test_pyarrow_date_columns_feed_date_and_datetime_fields(dtype: str) -> None:
    days = pd.Series([date(2024, 1, 31), None, date(2024, 2, 1)], dtype=dtype)
    df = pd.DataFrame({"day": days, "at": days})

    assert _agrees(df, Delivery) == {1}  # `at` is not optional
    valid = _valid(df, Delivery)
    assert valid["day"].tolist() == [date(2024, 1, 31), date(2024, 2, 1)]
    assert valid["at"].tolist() == [datetime(2024, 1, 31), datetime(2024, 2, 1)]


def test_a_parquet_file_read_with_the_pyarrow_backend(tmp_path: Path) -> None:
    path = tmp_path / "deliveries.parquet"
    frame = pd.DataFrame({"day": [date(2024, 1, 31), None], "at": [date(2024, 2, 1)] * 2})
    frame.to_parquet(path)
    df = pd.read_parquet(path, dtype_backend="pyarrow")

    assert str(df["day"].dtype) == "date32[day][pyarrow]"
    assert _agrees(df, Delivery) == set()


def test_pyarrow_timestamps_feed_date_fields() -> None:
    class Day(BaseModel):
        day: date

    stamps = pd.to_datetime(["2024-01-31 00:00", "2024-01-31 10:00", None])
    df = pd.DataFrame({"day": pd.Series(stamps).astype("timestamp[us][pyarrow]")})

    assert _agrees(df, Day) == {1, 2}


# --- 2. pyarrow booleans with nulls ---------------------------------------------------------


def test_an_int_field_over_pyarrow_booleans_with_a_null() -> None:
    class Count(BaseModel):
        n: int | None
        share: float | None

    flags = pd.Series([True, None, False], dtype="bool[pyarrow]")
    df = pd.DataFrame({"n": flags, "share": flags})

    assert _agrees(df, Count) == set()
    valid = _valid(df, Count)
    assert valid["n"].isna().tolist() == [False, True, False]
    assert valid["n"].dropna().tolist() == [1, 0]
    assert valid["share"].dropna().tolist() == [1.0, 0.0]


# --- 3. Annotated validators reading info.data ----------------------------------------------


def _not_before_start(end: int, info: ValidationInfo) -> int:
    if end < info.data["start"]:
        raise ValueError("ends before it starts")
    return end


class Span(BaseModel):
    start: int
    end: Annotated[int, AfterValidator(_not_before_start)]
    until: Annotated[int, AfterValidator(_not_before_start)] | None = None


def test_an_annotated_validator_reads_the_fields_before_it() -> None:
    df = pd.DataFrame({"start": [1, 5, 2], "end": [3, 3, 2], "until": [None, 9, 1]})

    assert _agrees(df, Span) == {1, 2}


# --- 4. model_post_init ----------------------------------------------------------------------


class Order(BaseModel):
    quantity: int
    unit_price: float = Field(ge=0)

    def model_post_init(self, context: Any) -> None:
        if self.quantity * self.unit_price > 1000:
            raise ValueError("order above the approval limit")


def test_model_post_init_rejects_rows() -> None:
    df = pd.DataFrame({"quantity": [2, 50, 3, 1], "unit_price": [10.0, 30.0, -1.0, 999.0]})

    assert _agrees(df, Order) == {1, 2}
    report = validate(df, Order, policy="quarantine", max_invalid_fraction=1.0).report
    assert {(f.column, f.rule) for f in report.failures} == {
        ("(row)", "value_error"),
        ("unit_price", "greater_than_equal"),
    }


def test_a_small_frame_runs_model_post_init_too() -> None:
    df = pd.DataFrame({"quantity": [50], "unit_price": [30.0]})

    assert _agrees(df, Order) == {0}


# --- 5. Enums that find other members, and flags ---------------------------------------------


class Mode(StrEnum):
    RUN = "run"
    IDLE = "idle"

    @classmethod
    def _missing_(cls, value: object) -> Mode | None:
        if isinstance(value, str):
            return next((m for m in cls if m.value == value.strip().lower()), None)
        return None


class Permission(IntFlag):
    READ = 4
    WRITE = 2
    EXECUTE = 1


class Machine(BaseModel):
    mode: Mode
    permission: Permission


@pytest.mark.parametrize("dtype", ["str", "category", "object"])
def test_an_enum_with_missing_and_flag_combinations(dtype: str) -> None:
    df = pd.DataFrame(
        {
            "mode": pd.Series(["run", "RUN", " Idle ", "stop"], dtype=dtype),
            "permission": [1, 3, 6, 7],
        }
    )

    assert _agrees(df, Machine) == {3}
    assert _valid(df, Machine)["mode"].tolist() == ["run", "run", "idle"]
    assert _valid(df, Machine)["permission"].tolist() == [1, 3, 6]


# --- 6. numpy scalars and enum members in object columns -------------------------------------


class Level(IntEnum):
    LOW = 1


def test_objects_are_validated_as_the_record_holds_them() -> None:
    class Mixed(BaseModel):
        label: str
        at: datetime
        big: int = Field(le=2**53)

    df = pd.DataFrame(
        {
            "label": pd.Series([Level.LOW, "a", "b"], dtype=object),
            "at": pd.Series([np.datetime64("2024-01-01T10:00"), datetime(2024, 1, 2), "x"]),
            "big": pd.Series([np.int64(3), np.int64(2**53 + 1), np.int64(4)], dtype=object),
        }
    )

    assert _agrees(df, Mixed) == {0, 1, 2}


def test_numpy_scalars_in_a_category_column() -> None:
    class Count(BaseModel):
        n: int = Field(le=2**53)

    df = pd.DataFrame({"n": pd.Categorical([np.int64(2**53 + 1), np.int64(3)])})

    assert _agrees(df, Count) == {0}


# --- 7. lone surrogates ---------------------------------------------------------------------


def test_lone_surrogates_are_strings_to_pydantic() -> None:
    class Note(BaseModel):
        text: str
        size: int

    df = pd.DataFrame({"text": pd.Series(["\ud800", "ok", "\udfff"], dtype=object), "size": 1})

    assert _agrees(df, Note) == set()
    assert _valid(df, Note)["text"].tolist() == ["\ud800", "ok", "\udfff"]


def test_a_report_with_lone_surrogates_serialises() -> None:
    class Note(BaseModel):
        text: str = Field(max_length=2)

    df = pd.DataFrame({"text": pd.Series(["\ud800", "ok", "long"], dtype=object)})

    assert _agrees(df, Note) == {0, 2}  # with a constraint, Pydantic reads the text as UTF-8
    report = validate(df, Note, policy="quarantine", max_invalid_fraction=1.0).report
    assert {f.rule for f in report.failures} == {"string_unicode", "string_too_long"}
    assert "\\\\ud800" in report.to_json()  # the example, escaped


def test_a_pyarrow_dictionary_column_of_strings() -> None:
    class Label(BaseModel):
        label: str

    labels = pa.array(["a", None, "b"]).dictionary_encode()
    df = pd.DataFrame({"label": pd.Series(labels, dtype=pd.ArrowDtype(labels.type))})

    assert _agrees(df, Label) == {1}


def test_int_choices_from_a_category_column_of_floats_with_nulls_stay_ints() -> None:
    class Grade(BaseModel):
        grade: Literal[1, 2] | None

    df = pd.DataFrame({"grade": pd.Series([np.nan, 1.0, np.nan, 2.0], dtype="category")})

    assert _agrees(df, Grade) == set()
    valid = _valid(df, Grade)
    assert valid["grade"].dropna().tolist() == [1, 2]
    assert all(type(v) is int for v in valid["grade"].dropna().tolist())
