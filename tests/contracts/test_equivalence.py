"""Property: `validate` rejects exactly the rows Pydantic rejects, row by row.

The reference is written independently of the engine (`_pydantic_reference`): each row of
`df.to_dict("records")`, with missing values (None, NaN, NaT, pd.NA) as None, goes
through `M.model_validate`. Models and frames are random; see the strategies below.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum, IntFlag
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import numpy as np
import pandas as pd
import pyarrow as pa
from _pydantic_reference import is_missing, rows_pydantic_rejects, rows_shipml_rejects
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from shipml.contracts import validate

# ---------------------------------------------------------------- random models

KINDS = ["str", "int", "float", "bool", "datetime", "date", "literal", "enum"]
KINDS += ["validated", "validated_with_info", "nested"]
KINDS += ["missing_enum", "flag", "annotated_with_info"]
STRING_POOL = [
    "",
    "a",
    "b",
    "abc",
    "ABC",
    "1",
    "0",
    "-3",
    "1.5",
    " 2 ",
    "1e3",
    "nan",
    "inf",
    "true",
    "no",
    "x y",
    "12345678901234567890",
    "2020-01-01",
    "2020-01-01T10:30:00",
    "2020-01-01T00:00:00+02:00",
    "01/02/2020",
    "1600000000",
]
CONFIGS: list[ConfigDict] = [
    ConfigDict(strict=True),
    ConfigDict(str_strip_whitespace=True, str_to_lower=True),
    ConfigDict(coerce_numbers_to_str=True),
    ConfigDict(allow_inf_nan=False),
]
PATTERNS = [r"^[a-c]+$", r"\d", r"^\s*\d+\s*$", "b"]


@st.composite
def numeric_bounds(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    number = (
        st.integers(-4, 4)
        if kind == "int"
        else st.one_of(st.integers(-4, 4), st.floats(-4, 4).map(lambda x: round(x, 1)))
    )
    bounds: dict[str, Any] = {}
    for key in draw(st.sets(st.sampled_from(["ge", "gt", "le", "lt", "multiple_of"]), max_size=3)):
        if key == "multiple_of":
            bounds[key] = draw(st.sampled_from([2, 3] if kind == "int" else [2, 0.5, 0.1]))
        else:
            bounds[key] = draw(number)
    if kind == "float" and draw(st.booleans()):
        bounds["allow_inf_nan"] = False
    return bounds


@st.composite
def text_rules(draw: st.DrawFn) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    if draw(st.booleans()):
        rules["min_length"] = draw(st.integers(0, 3))
    if draw(st.booleans()):
        rules["max_length"] = draw(st.integers(1, 5))
    if draw(st.booleans()):
        rules["pattern"] = draw(st.sampled_from(PATTERNS))
    return rules


class Point(BaseModel):
    """A nested model: its column holds dicts."""

    x: int


def _enum(values: tuple[Any, ...]) -> type[Enum]:
    return Enum("Choice", {f"m{i}": v for i, v in enumerate(values)})  # type: ignore[return-value]


class Loose(Enum):
    """An Enum that finds its members case-insensitively, and by their int values as text."""

    A = "a"
    B = "b"
    ONE = 1

    @classmethod
    def _missing_(cls, value: object) -> Loose | None:
        if isinstance(value, str):
            text = value.strip().lower()
            return next((m for m in cls if str(m.value) == text), None)
        return None


class Access(IntFlag):
    """Flags: any combination of members is a member."""

    READ = 4
    WRITE = 2
    RUN = 1


def _not_below_earlier_ints(value: int | None, info: ValidationInfo) -> int | None:
    """An Annotated validator reading the fields before it (info.data)."""
    earlier = [v for v in info.data.values() if type(v) is int]
    if value is not None and earlier and value < min(earlier):
        raise ValueError("below an earlier field")
    return value


@st.composite
def base_type(draw: st.DrawFn, kind: str) -> tuple[Any, dict[str, Any]]:
    """(annotation, Field constraints) for one kind."""
    simple = {"str": str, "int": int, "float": float, "bool": bool}
    simple |= {"datetime": datetime, "date": date, "validated": int, "validated_with_info": int}
    simple |= {"nested": Point, "missing_enum": Loose, "flag": Access}
    if kind == "annotated_with_info":
        return Annotated[int, AfterValidator(_not_below_earlier_ints)], {}
    if kind in ("int", "float"):
        return simple[kind], draw(numeric_bounds(kind))
    if kind == "str":
        return str, draw(text_rules())
    if kind in ("literal", "enum"):
        values = draw(
            st.one_of(
                st.sets(st.sampled_from(["a", "b", "abc", "1", ""]), min_size=1, max_size=3),
                st.sets(st.integers(-1, 3), min_size=1, max_size=3),
            )
        )
        choices = tuple(sorted(values))
        return (Literal[choices] if kind == "literal" else _enum(choices)), {}
    return simple[kind], {}


def _default_for(kind: str, annotation: Any, nullable: bool) -> Any:
    if nullable:
        return None
    samples = {"str": "zz", "int": 7, "float": 7.5, "bool": True, "validated": 8}
    samples |= {"validated_with_info": 9, "nested": Point(x=0), "annotated_with_info": 9}
    samples |= {"missing_enum": Loose.A, "flag": Access.READ}
    samples |= {"datetime": datetime(2021, 5, 1), "date": date(2021, 5, 1)}
    if kind == "literal":
        return annotation.__args__[0]
    if kind == "enum":
        return next(iter(annotation))
    return samples[kind]


@st.composite
def field_definition(draw: st.DrawFn, kind: str) -> tuple[Any, Any]:
    """A (type, FieldInfo) pair for `create_model`."""
    annotation, constraints = draw(base_type(kind))
    nullable = draw(st.booleans())
    as_annotated = draw(st.booleans()) and bool(constraints)
    if as_annotated:
        annotation = Annotated[annotation, Field(**constraints)]
        constraints = {}
    if nullable:
        annotation = annotation | None
    if draw(st.booleans()):
        return annotation, Field(_default_for(kind, annotation, nullable), **constraints)
    return annotation, Field(**constraints)


def _even(value: int | None) -> int | None:
    if value is not None and value % 2:
        raise ValueError("must be even")
    return value


def _differs_from_earlier_fields(value: Any, info: ValidationInfo) -> Any:
    if value is not None and value in info.data.values():
        raise ValueError("must differ from the fields before it")
    return value


def _no_twin_values(model: BaseModel) -> BaseModel:
    first, second, *_ = type(model).model_fields
    if getattr(model, first) == getattr(model, second) is not None:
        raise ValueError("the first two fields must differ")
    return model


def _refuse_negative_numbers(model: BaseModel, context: Any) -> None:
    """A `model_post_init` that rejects a row holding a negative number."""
    for value in model.__dict__.values():
        if type(value) in (int, float) and value < 0:
            raise ValueError("no negative numbers")


@st.composite
def models(draw: st.DrawFn) -> type[BaseModel]:
    """A model of 1-5 random fields, with a random extra policy and optional validators."""
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5))
    fields = {f"f{i}": draw(field_definition(kind)) for i, kind in enumerate(kinds)}
    validators: dict[str, Any] = {}
    validated = [name for name, kind in zip(fields, kinds, strict=True) if kind == "validated"]
    if validated:
        validators["check_even"] = field_validator(*validated)(_even)
    reading = [n for n, kind in zip(fields, kinds, strict=True) if kind == "validated_with_info"]
    if reading:
        validators["check_differs"] = field_validator(*reading)(_differs_from_earlier_fields)
    if len(fields) >= 2 and draw(st.booleans()):
        validators["check_twins"] = model_validator(mode="after")(_no_twin_values)
    config = ConfigDict(extra=draw(st.sampled_from(["ignore", "forbid", "allow"])))
    if draw(st.integers(0, 4)) == 0:
        config.update(draw(st.sampled_from(CONFIGS)))
    namespace: dict[str, Any] = {"model_config": config}
    if draw(st.integers(0, 5)) == 0:
        namespace["model_post_init"] = _refuse_negative_numbers
    base = type("RandomBase", (BaseModel,), namespace)
    return create_model("Random", __base__=base, __validators__=validators, **fields)


# ---------------------------------------------------------------- random frames

NAIVE = [datetime(2020, 1, 1), datetime(2020, 1, 1, 10, 30), datetime(1999, 12, 31, 0, 0, 0, 5)]
AWARE = [
    datetime(2020, 1, 1, tzinfo=UTC),
    datetime(2020, 1, 1, 3, tzinfo=timezone(timedelta(hours=2))),
]
SCALARS = st.one_of(
    st.none(),
    st.just(math.nan),
    st.integers(-5, 5),
    st.sampled_from([2**53 + 1, 2**63 - 1, 2**64, -(2**70)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 1.0, 2.0, -3.0, 0.5, 1e20]),
    st.booleans(),
    st.sampled_from(STRING_POOL),
    st.sampled_from([*NAIVE, *AWARE, date(2020, 1, 1), pd.Timestamp("2020-01-01")]),
    st.just({"a": 1}),
)


def _column(draw: st.DrawFn, rows: int) -> pd.Series:
    """A column of one of many dtypes, with missing values where the dtype allows."""
    shape = draw(
        st.sampled_from(
            [
                *("float", "int", "Int64", "bool", "boolean", "str", "object", "naive"),
                *("aware", "category_str", "category_int", "whole_float", "huge_object"),
                *("date32", "date64", "bool_pa", "timestamp_pa", "dictionary"),
            ]
        )
    )

    def some(values: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(values, min_size=rows, max_size=rows))

    match shape:
        case "float":
            values = some(
                st.one_of(
                    st.floats(-10, 10), st.sampled_from([math.nan, math.inf, -math.inf, 1e20, -0.0])
                )
            )
            return pd.Series(values, dtype="float64")
        case "whole_float":
            return pd.Series(
                some(st.sampled_from([0.0, 1.0, 2.0, 3.0, -4.0, 6.0, math.nan])), dtype="float64"
            )
        case "int":
            return pd.Series(
                some(st.one_of(st.integers(-6, 6), st.sampled_from([2**62, -(2**63)]))),
                dtype="int64",
            )
        case "Int64":
            return pd.Series(some(st.one_of(st.none(), st.integers(-6, 6))), dtype="Int64")
        case "bool":
            return pd.Series(some(st.booleans()), dtype=bool)
        case "boolean":
            return pd.Series(some(st.one_of(st.none(), st.booleans())), dtype="boolean")
        case "str":
            return pd.Series(some(st.one_of(st.none(), st.sampled_from(STRING_POOL))), dtype="str")
        case "naive":
            return pd.Series(pd.to_datetime(some(st.one_of(st.none(), st.sampled_from(NAIVE)))))
        case "aware":
            return pd.Series(
                pd.to_datetime(some(st.one_of(st.none(), st.sampled_from(AWARE))), utc=True)
            )
        case "category_str":
            return pd.Series(
                some(st.one_of(st.none(), st.sampled_from(STRING_POOL[:8]))), dtype="category"
            )
        case "category_int":
            return pd.Series(pd.Categorical(some(st.one_of(st.none(), st.integers(-2, 4)))))
        case "date32" | "date64":
            days = st.one_of(st.none(), st.sampled_from([date(2020, 1, 1), date(1999, 12, 31)]))
            return pd.Series(some(days), dtype=f"{shape}[pyarrow]")
        case "bool_pa":
            return pd.Series(some(st.one_of(st.none(), st.booleans())), dtype="bool[pyarrow]")
        case "timestamp_pa":
            stamps = pd.to_datetime(some(st.one_of(st.none(), st.sampled_from(NAIVE))))
            return pd.Series(stamps).astype("timestamp[us][pyarrow]")
        case "dictionary":
            return _dictionary(some(st.one_of(st.none(), st.sampled_from(STRING_POOL[:8]))))
        case "huge_object":
            return pd.Series(
                some(st.one_of(st.integers(-3, 3), st.sampled_from([2**64, -(2**70)]))),
                dtype=object,
            )
    return pd.Series(some(SCALARS), dtype=object)


def _dictionary(values: list[Any]) -> pd.Series:
    """A pyarrow dictionary column (categories kept by Arrow, not pandas)."""
    encoded = pa.array(values, type=pa.string()).dictionary_encode()
    return pd.Series(encoded, dtype=pd.ArrowDtype(encoded.type))


def _fitting_values(kind: str, field_type: Any) -> list[tuple[str, st.SearchStrategy[Any]]]:
    """(dtype, values) pairs that mostly suit a field of `kind`: the interesting cases."""
    small_floats = st.one_of(
        st.integers(-6, 6).map(float), st.floats(-6, 6).map(lambda x: round(x, 2))
    )
    if kind == "nested":
        points = st.sampled_from([{"x": 1}, {"x": "2"}, {"x": "a"}, {}, Point(x=3)])
        return [("object", points)]
    if kind in ("int", "validated", "validated_with_info", "annotated_with_info"):
        numeric_text = st.integers(-6, 6).map(str)
        return [
            ("int64", st.integers(-6, 6)),
            ("float64", st.integers(-6, 6).map(float)),
            ("str", numeric_text),
            ("Int64", st.integers(-6, 6)),
            ("bool[pyarrow]", st.booleans()),
        ]
    if kind == "missing_enum":
        names = st.sampled_from(["a", "B", " b ", "A", "1", "c", ""])
        return [("str", names), ("category", names), ("object", st.one_of(names, st.just(1)))]
    if kind == "flag":
        combinations = st.integers(0, 9)
        return [("int64", combinations), ("object", combinations), ("str", combinations.map(str))]
    if kind == "float":
        return [
            ("float64", small_floats),
            ("int64", st.integers(-6, 6)),
            ("str", small_floats.map(str)),
            ("object", st.one_of(small_floats, st.integers(-6, 6))),
        ]
    if kind == "str":
        text = st.sampled_from(STRING_POOL)
        return [("str", text), ("category", text), ("object", text), ("dictionary", text)]
    if kind == "bool":
        return [
            ("bool", st.booleans()),
            ("bool[pyarrow]", st.booleans()),
            ("int64", st.integers(0, 1)),
            ("float64", st.sampled_from([0.0, 1.0])),
            ("str", st.sampled_from(["true", "false", "yes", "0"])),
        ]
    if kind == "datetime":
        return [
            ("naive", st.sampled_from(NAIVE)),
            ("aware", st.sampled_from(AWARE)),
            ("timestamp[us][pyarrow]", st.sampled_from(NAIVE)),
            ("date32[pyarrow]", st.sampled_from([date(2020, 1, 1), date(2021, 3, 4)])),
            ("str", st.sampled_from(["2020-01-01", "2020-01-01T10:30:00", "2020-01-01T00:00:00Z"])),
        ]
    if kind == "date":
        midnight = st.sampled_from([datetime(2020, 1, 1), datetime(2021, 3, 4)])
        return [
            ("naive", midnight),
            ("aware", st.just(datetime(2020, 1, 1, tzinfo=UTC))),
            ("str", st.sampled_from(["2020-01-01", "2020-02-30", "2020-01-01T00:00:00"])),
            ("object", st.sampled_from([date(2020, 1, 1), datetime(2020, 1, 1)])),
            ("date32[pyarrow]", st.sampled_from([date(2020, 1, 1), date(2021, 3, 4)])),
            ("date64[pyarrow]", st.sampled_from([date(2020, 1, 1), date(2021, 3, 4)])),
            ("timestamp[us][pyarrow]", midnight),
        ]
    choices = [m.value for m in field_type] if kind == "enum" else list(field_type.__args__)
    values = st.sampled_from(choices)
    dtype = "str" if isinstance(choices[0], str) else "int64"
    return [(dtype, values), ("category", values), ("object", values)]


def _fitting_column(draw: st.DrawFn, rows: int, kind: str, field_type: Any) -> pd.Series:
    """Mostly values that suit the field, with some missing and some out of place."""
    dtype, values = draw(st.sampled_from(_fitting_values(kind, field_type)))
    if dtype in ("int64", "bool"):
        odd = values  # these dtypes hold no missing values
    elif dtype in ("float64", "naive", "aware") or "pyarrow" in dtype or dtype == "dictionary":
        odd = st.none()
    else:
        odd = st.one_of(st.none(), SCALARS)
    odd_percent = draw(st.sampled_from([0, 5, 15, 40]))
    cells = [draw(odd if draw(st.integers(0, 99)) < odd_percent else values) for _ in range(rows)]
    try:
        if dtype == "naive":
            return pd.Series(pd.to_datetime(cells))
        if dtype == "aware":
            return pd.Series(pd.to_datetime(cells, utc=True))
        if dtype == "dictionary":
            return _dictionary(cells)
        return pd.Series(cells, dtype=dtype)
    except (TypeError, ValueError, OverflowError, pa.ArrowException):
        return pd.Series(cells, dtype=object)


def _field_kind(annotation: Any) -> tuple[str, Any]:
    """The kind a generated field was drawn from, and its type without None."""
    if get_origin(annotation) in (Union, UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is Annotated:
        if any(isinstance(m, AfterValidator) for m in get_args(annotation)[1:]):
            return "annotated_with_info", int
        annotation = get_args(annotation)[0]
    if annotation is Loose:
        return "missing_enum", annotation
    if annotation is Access:
        return "flag", annotation
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "enum", annotation
    if annotation is Point:
        return "nested", annotation
    if get_origin(annotation) is Literal:
        return "literal", annotation
    names = {
        str: "str",
        int: "int",
        float: "float",
        bool: "bool",
        datetime: "datetime",
        date: "date",
    }
    return names[annotation], annotation


@st.composite
def frames_for(draw: st.DrawFn, model: type[BaseModel]) -> pd.DataFrame:
    """A frame with most of `model`'s columns and maybe an extra one.

    Most columns suit their field (so that rows pass or fail for one value); the others
    are of a random dtype.
    """
    rows = draw(st.integers(0, 25))
    columns = {}
    for name, info in model.model_fields.items():
        presence = draw(st.integers(0, 19))
        if presence == 0:
            continue
        if presence < 18:
            kind, field_type = _field_kind(info.annotation)
            columns[name] = _fitting_column(draw, rows, kind, field_type)
        else:
            columns[name] = _column(draw, rows)
    if draw(st.integers(0, 5)) == 0:
        columns["extra"] = _column(draw, rows)
    return pd.DataFrame(columns, index=pd.RangeIndex(rows))


@st.composite
def model_and_frame(draw: st.DrawFn) -> tuple[type[BaseModel], pd.DataFrame]:
    model = draw(models())
    return model, draw(frames_for(model))


# ---------------------------------------------------------------- the property


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(model_and_frame())
def test_validate_rejects_the_rows_pydantic_rejects(
    case: tuple[type[BaseModel], pd.DataFrame],
) -> None:
    model, df = case
    assert rows_shipml_rejects(df, model) == rows_pydantic_rejects(df, model)


def test_the_reference_counts_nan_as_none() -> None:
    class Reading(BaseModel):
        value: float | None
        label: str

    df = pd.DataFrame({"value": [1.0, math.nan], "label": ["ok", None]})
    assert rows_pydantic_rejects(df, Reading) == {1}
    assert rows_shipml_rejects(df, Reading) == {1}


def _pandas_value(value: Any) -> Any:
    """A cell of the valid frame as a plain Python value (missing as None)."""
    if is_missing(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _pydantic_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _same(cell: Any, expected: Any) -> bool:
    """Equal and of the same type; a date may be held as a datetime64 at midnight."""
    if isinstance(expected, datetime):
        return isinstance(cell, datetime) and pd.Timestamp(cell) == pd.Timestamp(expected)
    if isinstance(expected, date):
        at_midnight = isinstance(cell, datetime) and pd.Timestamp(cell).normalize() == cell
        return (at_midnight and cell.date() == expected) or (
            type(cell) is date and cell == expected
        )
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(cell, float) and math.isnan(cell)
    return type(cell) is type(expected) and cell == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_and_frame())
def test_valid_rows_hold_the_values_pydantic_gives(
    case: tuple[type[BaseModel], pd.DataFrame],
) -> None:
    model, df = case
    valid = validate(df, model, policy="quarantine", max_invalid_fraction=1.0).valid
    sources = df.to_dict("records")
    for position, record in zip(valid.index, valid.to_dict("records"), strict=True):
        source = {k: None if is_missing(v) else v for k, v in sources[position].items()}
        instance = model.model_validate(source)
        for name in model.model_fields:
            cell = _pandas_value(record[name])
            expected = _pydantic_value(getattr(instance, name))
            assert _same(cell, expected), (name, cell, expected)
