"""`validate(df, M)` by example: types, constraints, fallbacks, policies, the report."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from rich.console import Console

from shipml.contracts import (
    REASONS_COLUMN,
    ContractViolation,
    ValidationReport,
    ValidationResult,
    validate,
)
from shipml.contracts._compile import compile_contract


def quarantine(df: pd.DataFrame, model: type[BaseModel]) -> ValidationResult:
    """Validate without a quarantine limit, so that every verdict can be inspected."""
    return validate(df, model, policy="quarantine", max_invalid_fraction=1.0)


def rules_by_column(result: ValidationResult) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for failure in result.report.failures:
        found.setdefault(failure.column, set()).add(failure.rule)
    return found


def failing_rows(result: ValidationResult) -> list[int]:
    return result.quarantined.index.tolist()


class Color(Enum):
    RED = "red"
    BLUE = "blue"


class Reading(BaseModel):
    machine_id: str
    ts: datetime
    day: date
    temperature_c: float | None = Field(ge=-40, le=150)
    cycles: int = Field(ge=0)
    running: bool
    mode: Literal["idle", "run", "maintenance"]
    color: Color


def readings() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "machine_id": ["m1", "m2", "m3"],
            "ts": pd.to_datetime(["2024-05-01 10:00", "2024-05-01 11:00", "2024-05-01 12:00"]),
            "day": pd.to_datetime(["2024-05-01", "2024-05-02", "2024-05-03"]),
            "temperature_c": [21.5, np.nan, 150.0],
            "cycles": [0, 10, 20],
            "running": [True, False, True],
            "mode": ["idle", "run", "maintenance"],
            "color": ["red", "blue", "red"],
        }
    )


# ---------------------------------------------------------------- types


def test_a_frame_that_fits_passes_whole_and_unchanged() -> None:
    df = readings()
    result = validate(df, Reading)
    assert result.report.ok
    assert result.report.invalid_rows == 0
    assert result.quarantined.empty
    assert list(result.quarantined.columns) == [*df.columns, REASONS_COLUMN]
    pd.testing.assert_frame_equal(result.valid, df)


@pytest.mark.parametrize(
    ("column", "bad_value", "rule"),
    [
        ("machine_id", 7, "string_type"),
        ("ts", "not a time", "datetime_from_date_parsing"),
        ("day", "2024-02-30", "date_from_datetime_parsing"),
        ("temperature_c", "hot", "float_parsing"),
        ("cycles", 2.5, "int_from_float"),
        ("running", "perhaps", "bool_parsing"),
        ("mode", "sleep", "literal_error"),
        ("color", "green", "enum"),
    ],
)
def test_a_value_of_the_wrong_type_fails_its_row_with_pydantics_rule(
    column: str, bad_value: Any, rule: str
) -> None:
    df = readings().astype({column: object})
    df.loc[1, column] = bad_value
    result = quarantine(df, Reading)
    assert failing_rows(result) == [1]
    assert rules_by_column(result) == {column: {rule}}
    assert len(result.valid) == 2


def test_values_are_converted_as_pydantic_converts_them() -> None:
    class Order(BaseModel):
        quantity: int
        price: float
        paid: bool
        placed: datetime
        due: date
        color: Color

    df = pd.DataFrame(
        {
            "quantity": ["3", " 4 ", "5"],
            "price": ["1.5", "2", "1e3"],
            "paid": ["yes", "false", "1"],
            "placed": ["2024-05-01T10:00:00", "2024-05-01", "2024-05-01T10:00:00Z"],
            "due": ["2024-06-01", "2024-06-02", "2024-06-03"],
            "color": pd.Series(["red", "blue", "red"], dtype=object),
        }
    )
    valid = validate(df, Order).valid
    assert valid["quantity"].tolist() == [3, 4, 5]
    assert valid["quantity"].dtype == np.int64
    assert valid["price"].tolist() == [1.5, 2.0, 1000.0]
    assert valid["paid"].tolist() == [True, False, True]
    assert valid["due"].tolist() == [date(2024, 6, 1), date(2024, 6, 2), date(2024, 6, 3)]
    assert valid["placed"].iloc[2] == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert valid["color"].tolist() == ["red", "blue", "red"]


def test_float_columns_feed_int_fields_when_the_values_are_whole() -> None:
    class Count(BaseModel):
        n: int | None

    df = pd.DataFrame({"n": [1.0, np.nan, 2.5, math.inf, 3.0]})
    result = quarantine(df, Count)
    assert failing_rows(result) == [2, 3]
    assert {f.rule for f in result.report.failures} == {"int_from_float", "finite_number"}
    assert result.valid["n"].tolist() == [1, pd.NA, 3]
    assert result.valid["n"].dtype == "Int64"


def test_huge_ints_beyond_int64_are_judged_by_pydantic() -> None:
    class Big(BaseModel):
        n: int = Field(ge=0)

    df = pd.DataFrame({"n": pd.Series([2**64, -(2**70), 5], dtype=object)})
    result = quarantine(df, Big)
    assert failing_rows(result) == [1]
    assert result.valid["n"].tolist() == [2**64, 5]


def test_a_date_field_rejects_datetimes_with_a_time_of_day() -> None:
    class Day(BaseModel):
        day: date

    df = pd.DataFrame({"day": pd.to_datetime(["2024-01-01 00:00:00", "2024-01-01 00:00:01"])})
    result = quarantine(df, Day)
    assert failing_rows(result) == [1]
    assert rules_by_column(result) == {"day": {"date_from_datetime_inexact"}}


# ---------------------------------------------------------------- constraints


@pytest.mark.parametrize(
    ("constraint", "values", "bad_rows", "rule"),
    [
        ({"ge": 0}, [0.0, -0.5, 3.0], [1], "greater_than_equal"),
        ({"gt": 0}, [0.0, 0.5, 3.0], [0], "greater_than"),
        ({"le": 10}, [10.0, 10.5, 3.0], [1], "less_than_equal"),
        ({"lt": 10}, [10.0, 9.5, 3.0], [0], "less_than"),
        ({"multiple_of": 0.5}, [1.5, 1.25, -1.0], [1], "multiple_of"),
        ({"allow_inf_nan": False}, [1.0, math.inf, -math.inf], [1, 2], "finite_number"),
    ],
)
def test_numeric_constraints(
    constraint: dict[str, Any], values: list[float], bad_rows: list[int], rule: str
) -> None:
    class Measure(BaseModel):
        value: float = Field(**constraint)

    result = quarantine(pd.DataFrame({"value": values}), Measure)
    assert failing_rows(result) == bad_rows
    assert rules_by_column(result) == {"value": {rule}}


def test_int_multiple_of_is_exact_even_for_large_values() -> None:
    class Even(BaseModel):
        n: int = Field(multiple_of=2)

    result = quarantine(pd.DataFrame({"n": [3_000_000_001.0, 3_000_000_002.0]}), Even)
    assert failing_rows(result) == [0]


@pytest.mark.parametrize(
    ("constraint", "bad_rows", "rule"),
    [
        ({"min_length": 2}, [0], "string_too_short"),
        ({"max_length": 3}, [2], "string_too_long"),
        ({"pattern": r"^[a-z]+$"}, [2], "string_pattern_mismatch"),
    ],
)
def test_string_constraints(constraint: dict[str, Any], bad_rows: list[int], rule: str) -> None:
    class Name(BaseModel):
        name: str = Field(**constraint)

    df = pd.DataFrame({"name": ["a", "abc", "ABCD", "abc"]})
    result = quarantine(df, Name)
    assert failing_rows(result) == bad_rows
    assert rules_by_column(result) == {"name": {rule}}


def test_annotated_constraints_count_like_field_constraints() -> None:
    Percent = Annotated[float, Field(ge=0, le=100)]

    class Share(BaseModel):
        value: Percent | None
        code: Annotated[str, Field(min_length=2)]

    df = pd.DataFrame({"value": [50.0, 101.0, None], "code": ["ab", "cd", "e"]})
    result = quarantine(df, Share)
    assert failing_rows(result) == [1, 2]
    assert rules_by_column(result) == {"value": {"less_than_equal"}, "code": {"string_too_short"}}


# ---------------------------------------------------------------- missing values and defaults


@pytest.mark.parametrize("missing", [None, np.nan, pd.NaT, pd.NA])
def test_every_kind_of_missing_value_counts_as_none(missing: Any) -> None:
    class Optional(BaseModel):
        value: str | None

    class Required(BaseModel):
        value: str

    df = pd.DataFrame({"value": pd.Series(["x", missing], dtype=object)})
    assert validate(df, Optional).report.ok
    result = quarantine(df, Required)
    assert failing_rows(result) == [1]
    assert rules_by_column(result) == {"value": {"null"}}
    assert result.report.null_counts == {"value": 1}


def test_defaults_fill_absent_columns_but_not_missing_values() -> None:
    class Settings(BaseModel):
        name: str
        retries: int = 3
        tags: list[str] = Field(default_factory=list)
        note: str | None = None
        level: int = 1

    df = pd.DataFrame({"name": ["a", "b"], "level": [None, 2]})
    result = quarantine(df, Settings)
    assert failing_rows(result) == [0]  # present but null: the default does not apply
    assert result.valid["retries"].tolist() == [3]
    assert result.valid["tags"].tolist() == [[]]
    assert result.valid["note"].tolist() == [None]
    assert list(result.valid.columns) == ["name", "retries", "tags", "note", "level"]


def test_a_default_validated_by_request_fails_every_row_when_it_is_invalid() -> None:
    class Strict(BaseModel):
        name: str
        size: int = Field(default=-1, ge=0, validate_default=True)

    result = quarantine(pd.DataFrame({"name": ["a", "b"]}), Strict)
    assert failing_rows(result) == [0, 1]
    assert rules_by_column(result) == {"size": {"greater_than_equal"}}


def test_a_missing_required_column_fails_every_row() -> None:
    df = readings().drop(columns=["cycles"])
    with pytest.raises(ContractViolation) as raised:
        validate(df, Reading)
    report = raised.value.report
    assert report.missing_columns == ["cycles"]
    assert report.invalid_rows == 3
    assert [(f.column, f.rule, f.count) for f in report.failures] == [("cycles", "missing", 3)]


# ---------------------------------------------------------------- extra columns


def test_extra_columns_are_dropped_when_the_model_ignores_them() -> None:
    df = readings().assign(operator="ann")
    result = validate(df, Reading)
    assert "operator" not in result.valid.columns
    assert result.report.unexpected_columns == ["operator"]


@pytest.mark.parametrize("rows", [1, 3, 200], ids=["one row", "small", "large"])
def test_the_valid_frame_holds_the_contracts_fields_in_their_order(rows: int) -> None:
    # So a step can hand its Table straight to a model fitted on those columns.
    df = pd.concat([readings()] * (rows // 3 + 1), ignore_index=True).head(rows)
    shuffled = df[list(reversed(df.columns))].assign(operator="ann")
    result = validate(shuffled, Reading)
    assert list(result.valid.columns) == list(Reading.model_fields)


def test_extra_columns_fail_every_row_when_the_model_forbids_them() -> None:
    class Closed(BaseModel):
        model_config = ConfigDict(extra="forbid")
        a: int

    result = quarantine(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), Closed)
    assert failing_rows(result) == [0, 1]
    assert rules_by_column(result) == {"b": {"extra_forbidden"}}


def test_extra_columns_are_kept_when_the_model_allows_them() -> None:
    class Open(BaseModel):
        model_config = ConfigDict(extra="allow")
        a: int

    result = validate(pd.DataFrame({"b": ["x", "y"], "a": [1, 2]}), Open)
    assert list(result.valid.columns) == ["a", "b"]
    assert result.valid["b"].tolist() == ["x", "y"]


def test_a_duplicated_column_name_fails_every_row() -> None:
    df = pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"])

    class One(BaseModel):
        a: int

    result = quarantine(df, One)
    assert failing_rows(result) == [0, 1]
    assert rules_by_column(result) == {"a": {"duplicate_column"}}


# ---------------------------------------------------------------- what Pydantic validates itself


def test_field_validators_run_on_their_column() -> None:
    class Ticket(BaseModel):
        code: str
        seats: int

        @field_validator("code")
        @classmethod
        def upper_code(cls, value: str) -> str:
            if not value.isalnum():
                raise ValueError("code must be alphanumeric")
            return value.upper()

        @field_validator("code", "seats", mode="before")
        @classmethod
        def strip(cls, value: Any) -> Any:
            return value.strip() if isinstance(value, str) else value

    df = pd.DataFrame({"code": [" ab1 ", "a-b", "cd2"], "seats": [" 2", "3", "x"]})
    result = quarantine(df, Ticket)
    assert failing_rows(result) == [1, 2]
    assert rules_by_column(result) == {"code": {"value_error"}, "seats": {"int_parsing"}}
    assert result.valid["code"].tolist() == ["AB1"]
    assert result.valid["seats"].tolist() == [2]


def test_field_validators_that_read_other_fields_see_whole_rows() -> None:
    class Window(BaseModel):
        start: int
        end: int

        @field_validator("end")
        @classmethod
        def after_start(cls, value: int, info: ValidationInfo) -> int:
            if value <= info.data.get("start", value - 1):
                raise ValueError("end must come after start")
            return value

    result = quarantine(pd.DataFrame({"start": [1, 5, 2], "end": [2, 4, "x"]}), Window)
    assert failing_rows(result) == [1, 2]
    assert rules_by_column(result) == {"end": {"value_error", "int_parsing"}}


def test_model_validators_judge_the_rows_that_pass_the_columns() -> None:
    class Range(BaseModel):
        low: float
        high: float

        @model_validator(mode="after")
        def ordered(self) -> Range:
            if self.low > self.high:  # would raise TypeError on a None: runs on valid rows only
                raise ValueError("low must not exceed high")
            return self

    df = pd.DataFrame({"low": [1.0, 5.0, None], "high": [2.0, 4.0, 1.0]})
    result = quarantine(df, Range)
    assert failing_rows(result) == [1, 2]
    assert rules_by_column(result) == {"(row)": {"value_error"}, "low": {"null"}}


def test_model_validators_before_see_the_raw_records() -> None:
    class Celsius(BaseModel):
        celsius: float

        @model_validator(mode="before")
        @classmethod
        def from_fahrenheit(cls, data: dict[str, Any]) -> dict[str, Any]:
            if data.get("fahrenheit") is not None:
                return {"celsius": (data["fahrenheit"] - 32) * 5 / 9}
            return data

    df = pd.DataFrame({"fahrenheit": [212.0, None], "celsius": [None, 20.0]})
    result = validate(df, Celsius)
    assert result.valid["celsius"].tolist() == [100.0, 20.0]


def test_aliased_fields_read_their_alias_columns() -> None:
    class Person(BaseModel):
        full_name: str = Field(alias="Full Name")
        age: int

    result = quarantine(pd.DataFrame({"Full Name": ["Ann", None], "age": ["30", 40]}), Person)
    assert failing_rows(result) == [1]
    assert result.valid.columns.tolist() == ["full_name", "age"]
    assert result.valid["age"].tolist() == [30]
    assert result.report.unexpected_columns == []
    missing = quarantine(pd.DataFrame({"age": [1]}), Person).report.missing_columns
    assert missing == ["Full Name"]


def test_a_nested_model_column_is_validated_by_pydantic() -> None:
    class Point(BaseModel):
        x: int
        y: int

    class Shape(BaseModel):
        name: str
        origin: Point

    df = pd.DataFrame(
        {"name": ["a", "b", "c"], "origin": [{"x": 1, "y": 2}, {"x": "?", "y": 2}, None]}
    )
    result = quarantine(df, Shape)
    assert failing_rows(result) == [1, 2]
    assert rules_by_column(result) == {"origin": {"int_parsing", "null"}}
    assert result.valid["origin"].tolist() == [Point(x=1, y=2)]


def test_unusual_types_fall_back_to_pydantic() -> None:
    class Item(BaseModel):
        sizes: list[int]
        price: float | str

    df = pd.DataFrame({"sizes": [[1, 2], ["a"]], "price": [1.5, "free"]})
    result = quarantine(df, Item)
    assert failing_rows(result) == [1]


# ---------------------------------------------------------------- category columns


def test_category_columns_are_checked_once_per_category() -> None:
    class Row(BaseModel):
        mode: Literal["idle", "run"]
        size: int

    df = pd.DataFrame(
        {
            "mode": pd.Categorical(["idle", "run", "sleep", None, "run"]),
            "size": pd.Categorical(["1", "2", "2", "3", "x"]),
        }
    )
    result = quarantine(df, Row)
    assert failing_rows(result) == [2, 3, 4]
    assert rules_by_column(result) == {"mode": {"literal_error", "null"}, "size": {"int_parsing"}}
    assert isinstance(result.valid["mode"].dtype, pd.CategoricalDtype)
    assert result.valid["size"].tolist() == [1, 2]


# ---------------------------------------------------------------- policies


def test_fail_policy_raises_with_the_report() -> None:
    df = readings()
    df.loc[2, "cycles"] = -1
    with pytest.raises(ContractViolation) as raised:
        validate(df, Reading)
    assert raised.value.report.invalid_rows == 1
    assert "cycles" in str(raised.value)


def test_quarantine_sets_bad_rows_aside_with_their_reasons_and_loses_none() -> None:
    df = readings().set_index(pd.Index([10, 20, 30]))
    df.loc[20, "mode"] = "sleep"
    df.loc[20, "cycles"] = -5
    df.loc[30, "machine_id"] = None
    result = validate(df, Reading, policy="quarantine", max_invalid_fraction=0.7)
    assert len(result.valid) + len(result.quarantined) == len(df)
    assert result.quarantined.index.tolist() == [20, 30]
    assert result.quarantined[REASONS_COLUMN].tolist() == [
        "cycles: greater_than_equal; mode: literal_error",
        "machine_id: null",
    ]
    pd.testing.assert_frame_equal(result.quarantined.drop(columns=REASONS_COLUMN), df.loc[[20, 30]])
    assert result.valid.index.tolist() == [10]
    assert result.report.valid_rows == 1


def test_rows_keep_their_index_labels_even_when_labels_repeat() -> None:
    class Count(BaseModel):
        n: int = Field(ge=0)

    df = pd.DataFrame({"n": ["1", "-1", "2"]}, index=["a", "a", "b"])
    result = quarantine(df, Count)
    assert result.valid.index.tolist() == ["a", "b"]
    assert result.valid["n"].tolist() == [1, 2]
    assert result.quarantined.index.tolist() == ["a"]
    assert result.quarantined[REASONS_COLUMN].tolist() == ["n: greater_than_equal"]


def test_quarantine_fails_anyway_beyond_the_invalid_fraction() -> None:
    df = readings()
    df.loc[[0, 1], "mode"] = "sleep"
    with pytest.raises(ContractViolation, match=r"66\.7% of rows invalid, above the quarantine"):
        validate(df, Reading, policy="quarantine", max_invalid_fraction=0.5)
    assert len(validate(df, Reading, policy="quarantine", max_invalid_fraction=0.7).valid) == 1


def test_an_empty_frame_is_valid() -> None:
    result = validate(readings().iloc[:0], Reading)
    assert result.report.ok
    assert result.valid.empty


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: validate([{"a": 1}], Reading), "takes a pandas DataFrame, not list"),
        (lambda: validate(readings(), Reading, policy="drop"), "unknown policy 'drop'"),
        (lambda: validate(readings(), Reading, max_invalid_fraction=2), "between 0 and 1"),
        (lambda: validate(readings(), dict), "a contract is a Pydantic model class"),
    ],
)
def test_bad_arguments_get_a_one_line_error(call: Any, error: str) -> None:
    with pytest.raises((TypeError, ValueError), match=error):
        call()


def test_a_model_is_compiled_once() -> None:
    assert compile_contract(Reading) is compile_contract(Reading)


# ---------------------------------------------------------------- the report


def broken_report() -> ValidationReport:
    df = pd.concat([readings()] * 4, ignore_index=True)
    df.loc[[1, 3, 5, 7, 9, 11], "cycles"] = -1
    return quarantine(df, Reading).report


def test_the_report_names_column_rule_count_and_up_to_five_examples() -> None:
    report = broken_report()
    [failure] = report.failures
    assert (failure.column, failure.rule, failure.count) == ("cycles", "greater_than_equal", 6)
    assert failure.message == "Input should be greater than or equal to 0"
    assert [(e.row, e.value) for e in failure.examples] == [(r, -1) for r in (1, 3, 5, 7, 9)]
    assert report.null_counts["temperature_c"] == 4


def test_the_report_survives_a_json_round_trip() -> None:
    report = broken_report()
    again = ValidationReport.model_validate(json.loads(report.to_json()))
    assert again == report


def test_the_report_renders_as_a_rich_table() -> None:
    console = Console(file=io.StringIO(), width=160)
    console.print(broken_report())
    text = console.file.getvalue()
    assert "Reading: 6 of 12 rows invalid" in text
    assert "greater_than_equal" in text
    assert "1: -1, 3: -1, 5: -1, 7: -1, 9: -1" in text
