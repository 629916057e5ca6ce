"""infer_contract / infer_model: a contract drafted from data validates that data."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from shipml.contracts import ContractViolation, validate
from shipml.contracts.infer import ContractInferenceError, infer_contract, infer_model
from shipml.contracts.reading import read_table, text_columns_of

RUFF = Path(sys.executable).with_name("ruff")


def build(source: str, name: str) -> type[BaseModel]:
    """Execute generated source the way a user's contracts.py would be imported."""
    namespace: dict[str, Any] = {"__name__": "generated_contracts"}
    exec(compile(source, "contracts.py", "exec", dont_inherit=True), namespace)
    return namespace[name]


def field_lines(source: str) -> dict[str, str]:
    """The annotation (and default) of each field, by field name."""
    body = source.split('was inferred from."""\n', 1)[1]
    fields: dict[str, str] = {}
    for line in body.splitlines():
        if line.startswith("    ") and not line.startswith("        ") and ":" in line:
            name, _, rest = line.strip().partition(": ")
            fields[name] = rest
    return fields


def readings(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    temperature = rng.normal(50, 10, rows)
    temperature[3] = np.nan
    return pd.DataFrame(
        {
            "machine_id": [f"m{i}" for i in range(rows)],
            "ts": [f"2024-03-{1 + i % 28:02d}T10:{i % 60:02d}:00" for i in range(rows)],
            "day": [f"2024-03-{1 + i % 28:02d}" for i in range(rows)],
            "us_day": [f"03/{1 + i % 28:02d}/2024" for i in range(rows)],
            "temperature_c": temperature,
            "count": rng.integers(0, 100, rows),
            "mode": rng.choice(["idle", "run", "maintenance"], rows),
            "ok": rng.random(rows) < 0.5,
            "seen_at": pd.date_range("2024-01-01", periods=rows, freq="h"),
            "visits": pd.array([1, None] * (rows // 2), dtype="Int64"),
        }
    )


def test_types_nullability_and_literals() -> None:
    source = infer_contract(readings(), "Reading")
    assert field_lines(source) == {
        "machine_id": "str",
        "ts": "datetime",
        "day": "date",
        "us_day": 'Annotated[date, DateFormat("%m/%d/%Y")]',
        "temperature_c": "float | None",
        "count": "int",
        "mode": 'Literal["idle", "maintenance", "run"]',
        "ok": "bool",
        "seen_at": "datetime",
        "visits": "int | None",
    }
    assert "from datetime import date, datetime\nfrom typing import Annotated, Literal\n" in source
    assert "from pydantic import BaseModel\n\nfrom shipml.contracts import DateFormat\n" in source


def test_the_inferred_model_validates_its_data() -> None:
    frame = readings()
    model = build(infer_contract(frame, "Reading"), "Reading")
    assert validate(frame, model).report.ok


def test_infer_model_is_the_class_of_the_source() -> None:
    frame = readings()
    model = infer_model(frame, "Reading", bounds=True)
    assert model.__name__ == "Reading"
    assert list(model.model_fields) == list(frame.columns)
    assert validate(frame, model).report.ok


def test_bounds_are_the_observed_range() -> None:
    frame = readings()
    source = infer_contract(frame, "Reading", bounds=True)
    fields = field_lines(source)
    low, high = frame["count"].min(), frame["count"].max()
    assert fields["count"] == f"int = Field(ge={low}, le={high})"
    temperature = frame["temperature_c"]
    assert fields["temperature_c"] == (
        f"float | None = Field(ge={float(temperature.min())!r}, le={float(temperature.max())!r})"
    )
    assert "Field" not in fields["ok"]
    model = build(source, "Reading")
    assert validate(frame, model).report.ok
    hotter = frame.assign(temperature_c=frame["temperature_c"] + 1000)
    with pytest.raises(ContractViolation):
        validate(hotter, model)


def test_literal_rule_needs_few_values_each_seen_twice() -> None:
    rows = 40
    frame = pd.DataFrame(
        {
            "three_values": ["a", "b", "c", "a"] * (rows // 4),
            "all_distinct": [f"id{i}" for i in range(rows)],
            "too_many": [f"v{i % 21}" for i in range(rows)],
            "twenty": [f"v{i % 20}" for i in range(rows)],
        }
    )
    fields = field_lines(infer_contract(frame, "Row"))
    assert fields["three_values"] == 'Literal["a", "b", "c"]'
    assert fields["all_distinct"] == "str"
    assert fields["too_many"] == "str"
    assert fields["twenty"].startswith("Literal[")
    two_rows = pd.DataFrame({"mode": ["run", "idle"]})
    assert field_lines(infer_contract(two_rows, "Row"))["mode"] == "str"


def test_literal_values_with_quotes_and_unicode_round_trip() -> None:
    values = ['say "hi"', "back\\slash", "naïve 😀", "tab\there", "it's"]
    frame = pd.DataFrame({"label": values * 3})
    model = build(infer_contract(frame, "Row"), "Row")
    annotation = model.model_fields["label"].annotation
    assert set(annotation.__args__) == set(values)
    assert validate(frame, model).report.ok


def test_long_literal_is_wrapped_and_formatted() -> None:
    values = [f"a rather long category name number {i}" for i in range(6)]
    frame = pd.DataFrame({"category": values * 2, "score": [1.5, None] * 6})
    source = infer_contract(frame, "Row")
    assert '    category: Literal[\n        "a rather long category name number 0",\n' in source
    assert validate(frame, build(source, "Row")).report.ok


def test_generated_source_is_ruff_clean(tmp_path: Path) -> None:
    frame = readings()
    frame["category"] = [f"a rather long category name number {i % 6}" for i in range(len(frame))]
    frame["a_rather_long_column_name_for_the_mean_temperature_c"] = frame["temperature_c"] / 3
    path = tmp_path / "contracts.py"
    path.write_text(infer_contract(frame, "Reading", bounds=True))
    checks = [
        [str(RUFF), "format", "--check", "--isolated", "--line-length", "100", str(path)],
        [str(RUFF), "check", "--isolated", "--select", "E,F,W,I,UP", str(path)],
    ]
    for command in checks:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr


def test_python_objects_get_their_types() -> None:
    frame = pd.DataFrame(
        {
            "when": [date(2024, 1, 1), None, date(2024, 1, 3)],
            "stamp": [datetime(2024, 1, 1, 9), datetime(2024, 1, 2, 9), None],
            "flag": [True, None, False],
            "mixed": [1, "two", 3.0],
            "nothing": [None, None, None],
        }
    )
    source = infer_contract(frame, "Row")
    fields = field_lines(source)
    assert fields["when"] == "date | None"
    assert fields["stamp"] == "datetime | None"
    assert fields["flag"] == "bool | None"
    assert fields["mixed"] == "Any  # mixed or unsupported values: narrow by hand"
    assert fields["nothing"] == "Any  # no values seen: narrow by hand"
    assert validate(frame, build(source, "Row")).report.ok


def test_categorical_column_is_read_by_its_values() -> None:
    frame = pd.DataFrame({"size": pd.Categorical(["S", "M", "L", "M"] * 5)})
    source = infer_contract(frame, "Row")
    assert field_lines(source)["size"] == 'Literal["L", "M", "S"]'
    assert validate(frame, build(source, "Row")).report.ok


def test_an_invalid_iso_looking_date_keeps_the_column_str() -> None:
    frame = pd.DataFrame({"day": ["2024-01-31", "2024-02-30"]})
    assert field_lines(infer_contract(frame, "Row"))["day"] == "str"


def test_column_names_that_cannot_be_fields_are_refused_with_renames() -> None:
    frame = pd.DataFrame(
        {"unit price": [1], "class": [2], "2nd": [3], "json": [4], "_private": [5], "ok": [6]}
    )
    with pytest.raises(ContractInferenceError) as caught:
        infer_contract(frame, "Row")
    assert str(caught.value) == (
        "5 column name(s) cannot be field names; rename them in the data: "
        "'unit price' -> 'unit_price', 'class' -> 'class_', '2nd' -> 'c_2nd', "
        "'json' -> 'json_', '_private' -> 'private'"
    )


def test_bad_model_name_is_refused() -> None:
    with pytest.raises(ContractInferenceError) as caught:
        infer_contract(pd.DataFrame({"a": [1]}), "my model")
    assert str(caught.value) == "model name 'my model' is not a valid Python class name"


def test_round_trip_through_a_csv_file(tmp_path: Path) -> None:
    path = tmp_path / "readings.csv"
    readings().drop(columns=["seen_at"]).to_csv(path, index=False)
    model = build(infer_contract(read_table(path), "Reading"), "Reading")
    frame = read_table(path, text_columns=text_columns_of(model))
    assert validate(frame, model).report.ok


_COLUMN_VALUES = [
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=8),
    st.sampled_from(["red", "green", "blue"]),
    st.datetimes(min_value=datetime(1900, 1, 1)).map(datetime.isoformat),
    st.dates(min_value=date(1900, 1, 1)).map(date.isoformat),
]
_COLUMN_VALUES.append(st.one_of(*_COLUMN_VALUES))  # a column of mixed values


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    """Frames whose columns each draw from one kind of value, with or without None."""
    rows = draw(st.integers(1, 12))
    data = {}
    for index in range(draw(st.integers(1, 4))):
        values = st.one_of(draw(st.sampled_from(_COLUMN_VALUES)), st.none())
        data[f"c{index}"] = draw(st.lists(values, min_size=rows, max_size=rows))
    return pd.DataFrame(data)


@settings(max_examples=80, deadline=None)
@given(frames(), st.booleans())
def test_any_inferred_contract_validates_its_data(frame: pd.DataFrame, bounds: bool) -> None:
    model = infer_model(frame, "Row", bounds=bounds)
    assert validate(frame, model).report.ok


# --- dates in the formats real files use ------------------------------------------------------

DAYS = pd.date_range("2026-03-01", periods=40, freq="D")
TIMES = pd.date_range("2026-03-01 06:00", periods=40, freq="13h")
DT = "Annotated[datetime, "


@pytest.mark.parametrize(
    ("column", "values", "annotation"),
    [
        ("day", DAYS.strftime("%Y-%m-%d"), "date"),
        ("at", TIMES.strftime("%Y-%m-%dT%H:%M:%S"), "datetime"),
        ("at", TIMES.strftime("%Y-%m-%dT%H:%M:%S+02:00"), "datetime"),
        ("at", TIMES.strftime("%Y-%m-%dT%H:%M:%SZ"), "datetime"),
        ("day", DAYS.strftime("%Y/%m/%d"), 'Annotated[date, DateFormat("%Y/%m/%d")]'),
        ("day", DAYS.strftime("%d.%m.%Y"), 'Annotated[date, DateFormat("%d.%m.%Y")]'),
        ("day", DAYS.strftime("%d/%m/%Y"), 'Annotated[date, DateFormat("%d/%m/%Y")]'),
        ("day", DAYS.strftime("%m/%d/%Y"), 'Annotated[date, DateFormat("%m/%d/%Y")]'),
        ("day", DAYS.strftime("%d-%b-%Y"), 'Annotated[date, DateFormat("%d-%b-%Y")]'),
        (
            "at",
            TIMES.strftime("%m/%d/%Y %H:%M"),
            'Annotated[datetime, DateFormat("%m/%d/%Y %H:%M")]',
        ),
        (
            "created_at",
            TIMES.astype("int64") // 10**6,
            'Annotated[datetime, DateFormat("epoch_s")]',
        ),
        ("event_ts", TIMES.astype("int64") // 10**3, 'Annotated[datetime, DateFormat("epoch_ms")]'),
    ],
    ids=[
        "iso-date",
        "iso-datetime",
        "iso-offset",
        "iso-utc",
        "yyyy/mm/dd",
        "dd.mm.yyyy",
        "dd/mm/yyyy",
        "mm/dd/yyyy",
        "16-mar-2026",
        "american-with-time",
        "epoch-seconds",
        "epoch-milliseconds",
    ],
)
def test_a_file_of_dates_in_each_format_gets_its_type_and_marker(
    tmp_path: Path, column: str, values: Any, annotation: str
) -> None:
    path = tmp_path / "dates.csv"
    pd.DataFrame({column: values, "value": range(40)}).to_csv(path, index=False)
    frame = read_table(path)

    source = infer_contract(frame, "Row")

    assert field_lines(source)[column] == annotation
    model = build(source, "Row")
    assert validate(read_table(path, text_columns=text_columns_of(model)), model).report.ok


def test_day_and_month_order_that_cannot_be_told_is_stated() -> None:
    firsts = pd.date_range("2026-01-01", periods=12, freq="MS")
    frame = pd.DataFrame({"day": list(firsts.strftime("%d/%m/%Y")) * 2})

    source = infer_contract(frame, "Row")

    assert "    # day: ambiguous, no day is above 12: DD/MM/YYYY reads every value too\n" in source
    assert field_lines(source)["day"] == 'Annotated[date, DateFormat("%m/%d/%Y")]'


def test_dotted_dates_that_cannot_be_told_apart_are_read_day_first() -> None:
    firsts = pd.date_range("2026-01-01", periods=12, freq="MS")
    frame = pd.DataFrame({"day": list(firsts.strftime("%d.%m.%Y")) * 2})

    assert field_lines(infer_contract(frame, "Row"))["day"] == (
        'Annotated[date, DateFormat("%d.%m.%Y")]'
    )


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("code", ["2024", "2025"] * 5),  # a year alone is not a date
        ("ref", ["12-03-45", "99-99-99"] * 5),  # one value is no date
        ("count", [1_700_000_000, 1_700_000_001] * 5),  # not a time by its name
        ("created_at", [1, 2] * 5),  # a time by name, not epoch seconds by value
    ],
)
def test_values_that_only_look_like_dates_keep_their_type(name: str, values: list[Any]) -> None:
    frame = pd.DataFrame({name: values})

    assert "DateFormat" not in infer_contract(frame, "Row")


def test_wine_harvest_dates_written_day_first() -> None:
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True).frame[["alcohol", "hue", "target"]]
    harvests = pd.date_range("2019-09-01", periods=len(wine), freq="D").strftime("%d.%m.%Y")
    frame = wine.assign(harvest=harvests)

    model = infer_model(frame, "Wine")

    assert validate(frame, model).valid["harvest"].iloc[0] == date(2019, 9, 1)
