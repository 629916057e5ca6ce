"""Validate one column against one field: vectorized where the dtype allows, else Pydantic.

Every check here must give Pydantic's (lax mode) verdict for each value. The vectorized
paths decide only the values whose verdict is certain from the dtype (a float64 value
against a float field, say); anything else goes to Pydantic, in one batched call per
column (per distinct value for strings and categories).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.core.dtypes.cast import maybe_box_native  # type: ignore[attr-defined]  # pandas' own, not re-exported

from shipml.contracts._failures import Failures
from shipml.contracts._fields import FieldSpec
from shipml.contracts._numeric import (
    NULL_RULE,
    bool_from_number,
    check_floats,
    float_from_number,
    int_from_bool,
    int_from_float,
    int_from_int,
)
from shipml.contracts._pydantic import validate_items
from shipml.contracts._temporal import (
    datetime_from_date,
    datetime_from_epoch,
    temporal_from_text,
)


@dataclass
class ColumnOutcome:
    """What validating a column found, and the column converted to the field's type."""

    failures: Failures
    values: pd.Series
    nulls: int


Check = Callable[[FieldSpec, pd.Series, np.ndarray, Failures], "pd.Series | None"]


def check_column(spec: FieldSpec, column: pd.Series) -> ColumnOutcome:
    """Check every value of `column` against `spec`, as Pydantic would."""
    failures = Failures()
    if spec.kind == "float" and column.dtype == np.float64:  # the commonest column of all
        return ColumnOutcome(failures, column, check_floats(spec, column.to_numpy(), failures))
    null, nulls = _nulls(column, expect_none=not spec.nullable)
    if nulls and not spec.nullable:
        failures.add(*NULL_RULE, np.flatnonzero(null))
    if isinstance(column.dtype, pd.CategoricalDtype):
        return ColumnOutcome(failures, _check_categorical(spec, column, failures), nulls)
    values = _vectorized(spec, column, null, failures)
    if values is None:
        values = _with_pydantic(spec, column, null, failures)
    return ColumnOutcome(failures, values, nulls)


_NAT = np.iinfo(np.int64).min


def _nulls(column: pd.Series, expect_none: bool) -> tuple[np.ndarray, int]:
    """The null mask and count. When the dtype or Arrow's own count rules nulls out, the mask
    is a fresh zeroed array (pages untouched until read) and the values are not scanned.

    Floats of a field that takes no null (`expect_none`) are first summed: a finite sum
    shows there is no NaN, in one read and no mask.
    """
    dtype = column.dtype
    if isinstance(dtype, np.dtype):
        values = column.to_numpy()
        none = dtype.kind in "iub" or (
            dtype.kind == "M" and (not len(values) or values.view(np.int64).min() != _NAT)
        )
        if not none and expect_none and dtype.kind == "f":
            with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, overflow: no proof
                none = bool(np.isfinite(values.sum()))
    else:
        chunks = getattr(column.array, "_pa_array", None)  # Arrow-backed: its null count
        none = chunks is not None and chunks.null_count == 0
    if none:
        return np.zeros(len(column), dtype=bool), 0
    null = column.isna().to_numpy()
    return null, int(np.count_nonzero(null))


def _check_categorical(spec: FieldSpec, column: pd.Series, failures: Failures) -> pd.Series:
    """Check the categories once, then map their verdicts onto the rows by code."""
    categories = pd.Series(column.cat.categories)
    inner = check_column(spec, categories)
    codes = column.cat.codes.to_numpy()
    for (rule, message), bad_categories in inner.failures.merged().items():
        failures.add(rule, message, np.flatnonzero(np.isin(codes, bad_categories)))
    converted = typed_column(inner.values)
    if converted.dtype == categories.dtype and converted.equals(categories):
        return column
    kind = converted.dtype.kind if isinstance(converted.dtype, np.dtype) else None
    if kind in ("i", "u", "b") and (codes < 0).any():
        # a null row would turn numpy ints into floats (1 -> 1.0): a nullable dtype keeps them
        converted = converted.astype("boolean" if kind == "b" else "Int64")
    return pd.Series(
        converted.array.take(codes, allow_fill=True), index=column.index, name=column.name
    )


def _vectorized(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    """Decide the column by dtype; None when Pydantic must see (some of) the values."""
    if spec.kind is None:
        return None
    paths = _FAST_PATHS if spec.date_format is None else _DECLARED_FORMAT_PATHS
    source = _source_kind(column)
    check = None if source is None else paths.get((spec.kind, source))
    if check is None:
        return None
    return check(spec, column, null, failures)


def _source_kind(column: pd.Series) -> str | None:
    """The kind of values the column holds, when its dtype says so for every value."""
    kind = dtype_kind(column.dtype)
    if kind is None and column.dtype == np.dtype(object):
        return "str" if pd.api.types.infer_dtype(column, skipna=True) == "string" else None
    return kind


def dtype_kind(dtype: Any) -> str | None:
    """'bool', 'int', 'float', 'datetime', 'date' or 'str' when the dtype alone says so."""
    if isinstance(dtype, pd.ArrowDtype) and pa.types.is_date(dtype.pyarrow_dtype):
        return "date"  # date32/date64, as read_parquet(dtype_backend="pyarrow") gives them
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.StringDtype):
        return "str"
    return None


def _unchanged(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    return column


# ---------------------------------------------------------------- strings and choices


def _not_a_string(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    failures.add("string_type", "Input should be a valid string", np.flatnonzero(~null))
    return column


def _str_from_str(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    if spec.has_length_or_pattern:
        _check_distinct_strings(spec, column, failures)
    return column


def _check_distinct_strings(spec: FieldSpec, column: pd.Series, failures: Failures) -> None:
    """Validate each distinct string once with Pydantic, then map verdicts onto the rows."""
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        _check_distinct_arrow_strings(spec, column.array.__arrow_array__(), failures)
        return
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    verdicts = validate_items(spec.list_adapter, list(uniques))
    for (rule, message), bad_codes in verdicts.first_errors().items():
        failures.add(rule, message, np.flatnonzero(np.isin(codes, bad_codes)))


def _check_distinct_arrow_strings(
    spec: FieldSpec, strings: pa.Array | pa.ChunkedArray, failures: Failures
) -> None:
    """The same for Arrow strings: the distinct values without row codes (about twice as
    fast as factorizing); the rows of a failing value are found only when one fails."""
    distinct = [value for value in pc.unique(strings).to_pylist() if value is not None]
    verdicts = validate_items(spec.list_adapter, distinct)
    for (rule, message), bad in verdicts.first_errors().items():
        failing = pa.array([distinct[i] for i in bad], type=strings.type)
        found = pc.fill_null(pc.is_in(strings, value_set=failing), False)
        failures.add(rule, message, np.flatnonzero(found.to_numpy(zero_copy_only=False)))


def _choice_from_str(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    if not isinstance(spec.choices[0], str):
        return None  # int choices: Pydantic decides which strings match
    unknown = _unknown_strings(column, spec.choices, null)
    failures.add(*spec.choice_error, unknown)
    return column


def _unknown_strings(column: pd.Series, choices: tuple[str, ...], null: np.ndarray) -> np.ndarray:
    """Positions of the non-null strings that are not among `choices`."""
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        strings = column.array.__arrow_array__()
        if not len(strings):  # pyarrow 25's indices_nonzero crashes on a chunked array of none
            return np.empty(0, dtype=np.intp)
        known_values = pc.is_in(strings, value_set=pa.array(choices, type=strings.type))
        if pc.all(known_values).as_py():
            return np.empty(0, dtype=np.intp)  # the clean path: no mask in numpy
        unknown = pc.invert(known_values)  # is_in gives False, not null, for a null
        if strings.null_count:
            unknown = pc.and_(unknown, pc.is_valid(strings))
        positions: np.ndarray = pc.indices_nonzero(unknown).to_numpy()
        return positions.astype(np.intp)
    known = column.isin(choices).to_numpy()
    return np.flatnonzero(~known & ~null)


def _choice_from_int(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    if not isinstance(spec.choices[0], int):
        return _choice_rejects_all(spec, column, null, failures)
    known = column.isin(spec.choices).to_numpy()
    if not known.all():
        failures.add(*spec.choice_error, np.flatnonzero(~known & ~null))
    return column


def _choice_rejects_all(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    """Str choices never match a number, bool or datetime."""
    if not isinstance(spec.choices[0], str):
        return None
    failures.add(*spec.choice_error, np.flatnonzero(~null))
    return column


# ---------------------------------------------------------------- dates and times


def _date_from_datetime(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    seen = column.dt.floor("us") if column.dt.unit == "ns" else column  # Pydantic sees µs
    off_midnight = seen.dt.normalize() != seen  # NaT compares unequal: masked below
    bad = off_midnight.to_numpy(dtype=bool, na_value=False) & ~null
    failures.add(
        "date_from_datetime_inexact",
        "Datetimes provided to dates should have zero time - e.g. be exact dates",
        np.flatnonzero(bad),
    )
    return column


_FAST_PATHS: dict[tuple[str, str], Check] = {
    ("float", "float"): float_from_number,
    ("float", "int"): float_from_number,
    ("float", "bool"): float_from_number,
    ("int", "int"): int_from_int,
    ("int", "float"): int_from_float,
    ("int", "bool"): int_from_bool,
    ("bool", "bool"): _unchanged,
    ("bool", "int"): bool_from_number,
    ("bool", "float"): bool_from_number,
    ("str", "str"): _str_from_str,
    ("str", "int"): _not_a_string,
    ("str", "float"): _not_a_string,
    ("str", "bool"): _not_a_string,
    ("str", "datetime"): _not_a_string,
    ("choice", "str"): _choice_from_str,
    ("choice", "int"): _choice_from_int,
    ("choice", "float"): _choice_rejects_all,
    ("choice", "bool"): _choice_rejects_all,
    ("choice", "datetime"): _choice_rejects_all,
    ("datetime", "datetime"): _unchanged,
    ("date", "datetime"): _date_from_datetime,
    ("date", "date"): _unchanged,
    ("datetime", "date"): datetime_from_date,
    ("str", "date"): _not_a_string,
    ("choice", "date"): _choice_rejects_all,
}
# Date and datetime fields with a declared format (`DateFormat`): strings are read by it.
_DECLARED_FORMAT_PATHS: dict[tuple[str, str], Check] = {
    ("date", "str"): temporal_from_text,
    ("datetime", "str"): temporal_from_text,
    ("datetime", "int"): datetime_from_epoch,
    ("datetime", "float"): datetime_from_epoch,
    ("datetime", "datetime"): _unchanged,
    ("date", "datetime"): _date_from_datetime,
    ("date", "date"): _unchanged,
    ("datetime", "date"): datetime_from_date,
}


# ---------------------------------------------------------------- Pydantic itself


def _with_pydantic(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    """Validate the non-null values with Pydantic; return the converted column."""
    present = np.flatnonzero(~null)
    codes, distinct = _distinct(column if len(present) == len(column) else column.iloc[present])
    verdicts = validate_items(spec.list_adapter, distinct)
    for (rule, message), bad in verdicts.first_errors().items():
        failures.add(rule, message, present[np.isin(codes, bad)])
    converted = np.full(len(column), None, dtype=object)
    converted[present] = verdicts.values[codes]
    return pd.Series(converted, index=column.index, name=column.name)


def typed_column(column: pd.Series) -> pd.Series:
    """An object column in the pandas dtype its values call for; ints stay ints (Int64)."""
    if column.dtype != np.dtype(object):
        return column
    kind = pd.api.types.infer_dtype(column, skipna=True)
    missing = column.isna().any()
    try:
        if kind == "integer":
            return column.astype("Int64" if missing else np.int64)
        if kind == "boolean":
            return column.astype("boolean" if missing else bool)
        return column.infer_objects()
    except (OverflowError, TypeError):
        return column  # ints beyond int64
    except UnicodeEncodeError:
        return column  # lone surrogates ("\ud800"): valid Python strings, but not UTF-8


_FEW = 16


def _distinct(values: pd.Series) -> tuple[np.ndarray, list[object]]:
    """(codes, distinct values): strings are validated once each; other values each time.

    Only strings are deduplicated: 1, 1.0 and True hash alike but validate differently.
    """
    if isinstance(values.dtype, pd.StringDtype):
        if len(values) <= _FEW:  # a request's few rows: a dict is faster than factorize
            first: dict[str, int] = {}
            found = [first.setdefault(text, len(first)) for text in values.tolist()]
            return np.array(found, dtype=np.intp), list(first)
        codes, uniques = pd.factorize(values)
        return codes, list(uniques)
    return np.arange(len(values)), record_values(values)


def record_values(values: pd.Series) -> list[object]:
    """The values as `df.to_dict("records")` gives them to Pydantic.

    In object and extension columns that means pandas' `maybe_box_native`: numpy scalars
    become Python's, an `IntEnum` member its int, `np.datetime64` a `pd.Timestamp`.
    """
    items: list[object] = values.to_numpy(dtype=object).tolist()
    dtype = values.dtype
    if dtype == np.dtype(object) or isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return [maybe_box_native(item) for item in items]
    return items
