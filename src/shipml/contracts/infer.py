"""Infer a Pydantic contract from a DataFrame: the Python source, or the model class itself.

Rules, per column:
- type from the dtype: bool, int, float, datetime; strings that are all ISO 8601 dates become
  `date`, ISO 8601 date-times (with or without a zone) `datetime`, when Pydantic accepts every
  one of them; objects holding Python dates, numbers or booleans get that type; anything else
  (mixed values, lists, bytes) is `Any`, with a comment.
- dates in another format (2012/01/01, 31.01.2024, 01/31/2024 10:30, 16-Mar-2026) become
  `Annotated[date, DateFormat("%Y/%m/%d")]` (or `datetime` when the format has a time), the
  format guessed by pandas' `guess_datetime_format` and kept only when it reads every value.
  When both DD/MM and MM/DD read every value (no day above 12), the field says so in a comment.
- whole numbers in a column whose name speaks of time (`ts`, `created_at`, `event_time`, ...)
  that lie within 1973-2100 as epoch seconds or milliseconds become
  `Annotated[datetime, DateFormat("epoch_s")]` (or `"epoch_ms"`).
- `X | None` when the column has a missing value; every field is required (the column exists).
- `Literal[...]` for a string column with at most `LITERAL_MAX_VALUES` distinct values, each
  seen at least `LITERAL_MIN_REPEATS` times on average (so a handful of rows gives no Literal).
- with `bounds=True`, numeric columns get `Field(ge=min, le=max)` from the observed values.

Column names must be usable as field names as they are: aliases would push the validator onto
its slow whole-row path, and a renamed field would no longer match the data. A column that is
not a valid field name (not an identifier, a keyword, a leading underscore, or shadowing a
`BaseModel` attribute) is refused with a suggested rename.
"""

from __future__ import annotations

import json
import keyword
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel, TypeAdapter, ValidationError

from shipml.contracts._columns import dtype_kind
from shipml.contracts._fields import list_of
from shipml.contracts._infer_dates import epoch_unit, format_of_dates
from shipml.errors import ContractInferenceError

LITERAL_MAX_VALUES = 20
LITERAL_MIN_REPEATS = 2
LINE_LENGTH = 100

_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
_ISO_DATETIME = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}.*)?"
_TEMPORAL = {"date": date, "datetime": datetime}
_SAMPLE_SIZE = 100
_OBJECT_KINDS = {
    "integer": "int",
    "floating": "float",
    "mixed-integer-float": "float",
    "boolean": "bool",
    "datetime": "datetime",
    "datetime64": "datetime",
    "date": "date",
}


@dataclass(frozen=True)
class _Field:
    """One inferred field, ready to be written as a line of source."""

    name: str
    kind: str  # str, int, float, bool, datetime, date or Any
    nullable: bool
    choices: tuple[str, ...] = ()
    ge: int | float | None = None
    le: int | float | None = None
    note: str = ""
    date_format: str | None = None  # written as Annotated[kind, DateFormat(...)]


def infer_contract(df: pd.DataFrame, name: str, *, bounds: bool = False) -> str:
    """The Python source of a Pydantic model `name` that every row of `df` satisfies."""
    _check_model_name(name)
    _check_column_names(df)
    fields = [_infer_field(str(column), df[column], bounds) for column in df.columns]
    return _render(name, fields, rows=len(df))


def infer_model(df: pd.DataFrame, name: str, *, bounds: bool = False) -> type[BaseModel]:
    """The Pydantic model class `infer_contract` writes, built from that very source."""
    source = infer_contract(df, name, bounds=bounds)
    namespace: dict[str, Any] = {"__name__": "shipml.contracts.inferred"}
    # Executing the generated source keeps the class and its source from ever disagreeing.
    exec(compile(source, f"<inferred contract {name}>", "exec", dont_inherit=True), namespace)
    model: type[BaseModel] = namespace[name]
    return model


def suggested_field_name(column: str) -> str:
    """A valid field name close to `column`, to rename the column to."""
    candidate = re.sub(r"\W", "_", column).lstrip("_") or "column"
    if candidate[0].isdigit():
        candidate = f"c_{candidate}"
    if keyword.iskeyword(candidate) or hasattr(BaseModel, candidate):
        candidate = f"{candidate}_"
    return candidate


def _check_model_name(name: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ContractInferenceError(f"model name {name!r} is not a valid Python class name")


def _check_column_names(df: pd.DataFrame) -> None:
    duplicated = [str(c) for c in df.columns[df.columns.duplicated()].unique()]
    if duplicated:
        raise ContractInferenceError(f"duplicate column names: {', '.join(map(repr, duplicated))}")
    refused = [column for column in df.columns if not _usable_field_name(column)]
    if refused:
        renames = ", ".join(
            f"{column!r} -> {suggested_field_name(str(column))!r}" for column in refused
        )
        raise ContractInferenceError(
            f"{len(refused)} column name(s) cannot be field names; rename them in the data: "
            + renames
        )


def _usable_field_name(column: Any) -> bool:
    return (
        isinstance(column, str)
        and column.isidentifier()
        and not keyword.iskeyword(column)
        and not column.startswith("_")
        and not hasattr(BaseModel, column)
    )


def _infer_field(name: str, column: pd.Series, bounds: bool) -> _Field:
    if isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(column.cat.categories.dtype)
    present = column.dropna()
    nullable = len(present) < len(column)
    kind = _kind(column.dtype, present)
    if kind == "str":
        return _string_field(name, present, nullable)
    if kind == "Any":
        note = "no values seen" if present.empty else "mixed or unsupported values"
        return _Field(name, "Any", nullable=False, note=f"{note}: narrow by hand")
    unit = epoch_unit(name, present) if kind in ("int", "float") else None
    if unit is not None:
        return _Field(name, "datetime", nullable, date_format=unit)
    if bounds and kind in ("int", "float"):
        low, high = _observed_bounds(present, kind)
        return _Field(name, kind, nullable, ge=low, le=high)
    return _Field(name, kind, nullable)


def _kind(dtype: Any, present: pd.Series) -> str:
    kind = dtype_kind(dtype)
    if kind is not None:
        return kind
    if pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(present, skipna=True)
        return "str" if inferred == "string" else _OBJECT_KINDS.get(inferred, "Any")
    return "Any"


def _string_field(name: str, present: pd.Series, nullable: bool) -> _Field:
    distinct = pd.Series(present.unique(), dtype="str")
    temporal = _temporal_kind(distinct)
    if temporal is not None:
        return _Field(name, temporal, nullable)
    declared = format_of_dates(distinct)
    if declared is not None:
        kind = "datetime" if declared.has_time else "date"
        return _Field(name, kind, nullable, note=declared.note, date_format=declared.format)
    return _Field(name, "str", nullable, choices=_choices(distinct, rows=len(present)))


def _temporal_kind(distinct: pd.Series) -> str | None:
    """`date` or `datetime` when every string is ISO 8601 and Pydantic accepts each one."""
    if distinct.empty:
        return None
    for kind, pattern in (("date", _ISO_DATE), ("datetime", _ISO_DATETIME)):
        if _all_match(distinct, pattern) and _pydantic_accepts(kind, distinct):
            return kind
    return None


def _all_match(values: pd.Series, pattern: str) -> bool:
    """Whether every value matches; a small sample first rules most text columns out fast."""
    if not values.head(_SAMPLE_SIZE).str.fullmatch(pattern).all():
        return False
    return bool(values.str.fullmatch(pattern).all())


def _pydantic_accepts(kind: str, values: pd.Series) -> bool:
    try:
        TypeAdapter(list_of(_TEMPORAL[kind])).validate_python(values.tolist())
    except ValidationError:
        return False
    return True


def _choices(distinct: pd.Series, rows: int) -> tuple[str, ...]:
    if len(distinct) > LITERAL_MAX_VALUES or rows < LITERAL_MIN_REPEATS * len(distinct):
        return ()
    return tuple(sorted(distinct))


def _observed_bounds(
    present: pd.Series, kind: str
) -> tuple[int | float | None, int | float | None]:
    """(min, max) of the values; (None, None) when there are none or they are not finite."""
    if present.empty:
        return None, None
    if kind == "int":
        return int(present.min()), int(present.max())
    low, high = float(present.min()), float(present.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        return None, None
    return low, high


def _render(name: str, fields: list[_Field], rows: int) -> str:
    body = [_field_source(f) for f in fields]
    lines = [
        f'"""Contract {name}, inferred by shipml from {rows:,} rows: review it before use."""',
        "",
        *_imports(fields),
        "",
        "",
        f"class {name}(BaseModel):",
        f'    """A row of the data {name} was inferred from."""',
    ]
    if body:
        lines += ["", *body]
    return "\n".join(lines) + "\n"


def _imports(fields: list[_Field]) -> list[str]:
    kinds = {f.kind for f in fields}
    declared = any(f.date_format for f in fields)
    temporal = [k for k in ("date", "datetime") if k in kinds]
    typing_names = ["Annotated"] if declared else []
    typing_names += ["Any"] if "Any" in kinds else []
    if any(f.choices for f in fields):
        typing_names.append("Literal")
    pydantic_names = ["BaseModel"] + (["Field"] if any(_has_bounds(f) for f in fields) else [])
    lines = []
    if temporal:
        lines.append(f"from datetime import {', '.join(temporal)}")
    if typing_names:
        lines.append(f"from typing import {', '.join(typing_names)}")
    if lines:
        lines.append("")
    lines.append(f"from pydantic import {', '.join(pydantic_names)}")
    if declared:
        lines += ["", "from shipml.contracts import DateFormat"]
    return lines


def _has_bounds(field: _Field) -> bool:
    return field.ge is not None or field.le is not None


def _field_source(field: _Field) -> str:
    """`    name: annotation[ = Field(...)]  # note`, wrapped as ruff would when too long."""
    suffix = " | None" if field.nullable else ""
    note = f"  # {field.note}" if field.note else ""
    if _has_bounds(field):
        limits = f"ge={field.ge!r}, le={field.le!r}"
        line = f"    {field.name}: {field.kind}{suffix} = Field({limits})"
        if len(line) <= LINE_LENGTH:
            return line
        return f"    {field.name}: {field.kind}{suffix} = Field(\n        {limits}\n    )"
    if field.date_format:
        marker = f"DateFormat({json.dumps(field.date_format)})"
        comment = f"    # {field.name}: {field.note}\n" if field.note else ""
        return f"{comment}    {field.name}: Annotated[{field.kind}, {marker}]{suffix}"
    if not field.choices:
        return f"    {field.name}: {field.kind}{suffix}{note}"
    values = [json.dumps(value, ensure_ascii=False) for value in field.choices]
    line = f"    {field.name}: Literal[{', '.join(values)}]{suffix}"
    if len(line) <= LINE_LENGTH:
        return line
    wrapped = "\n".join(f"        {value}," for value in values)
    return f"    {field.name}: Literal[\n{wrapped}\n    ]{suffix}"
