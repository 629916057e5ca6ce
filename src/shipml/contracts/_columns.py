"""Validate one column against one field: vectorized where the dtype allows, else Pydantic.

Every check here must give Pydantic's (lax mode) verdict for each value. The vectorized
paths decide only the values whose verdict is certain from the dtype (a float64 value
against a float field, say); anything else goes to Pydantic, value by value, in one
batched call per column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import TypeAdapter, ValidationError

from shipml.contracts._fields import Bounds, FieldSpec

_EXACT_FLOAT_INT = 2.0**53


@dataclass
class Failures:
    """Rule failures of one column: (rule, message) -> positions in the frame."""

    by_rule: dict[tuple[str, str], list[np.ndarray]] = field(default_factory=dict)

    def add(self, rule: str, message: str, positions: np.ndarray) -> None:
        if len(positions):
            self.by_rule.setdefault((rule, message), []).append(positions)

    def merged(self) -> dict[tuple[str, str], np.ndarray]:
        return {
            key: np.sort(np.concatenate(parts)) if len(parts) > 1 else parts[0]
            for key, parts in self.by_rule.items()
        }

    def invalid_positions(self) -> np.ndarray:
        parts = [p for group in self.by_rule.values() for p in group]
        if not parts:
            return np.empty(0, dtype=np.intp)
        return np.unique(np.concatenate(parts))


@dataclass
class ColumnOutcome:
    """What validating a column found, and the column converted to the field's type."""

    failures: Failures
    values: pd.Series


def check_column(spec: FieldSpec, column: pd.Series) -> ColumnOutcome:
    """Check every value of `column` against `spec`, as Pydantic would."""
    failures = Failures()
    null = column.isna().to_numpy()
    if null.any() and not spec.nullable:
        failures.add("null", "value is null but the field is not optional", np.flatnonzero(null))
    if isinstance(column.dtype, pd.CategoricalDtype):
        return _check_categorical(spec, column, null, failures)
    values = _vectorized(spec, column, null, failures)
    if values is None:
        values = _with_pydantic(spec, column, null, failures)
    return ColumnOutcome(failures, values)


def _check_categorical(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> ColumnOutcome:
    """Check the categories once, then map their verdicts onto the rows by code."""
    categories = pd.Series(column.cat.categories)
    inner = check_column(spec, categories)
    codes = column.cat.codes.to_numpy()
    for (rule, message), bad_categories in inner.failures.merged().items():
        failures.add(rule, message, np.flatnonzero(np.isin(codes, bad_categories)))
    return ColumnOutcome(failures, column)


def _vectorized(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    """Decide the column by dtype; None when Pydantic must see (some of) the values."""
    if spec.kind is None:
        return None
    check = _FAST_PATHS.get((spec.kind, _source_kind(column)))
    if check is None:
        return None
    return check(spec, column, null, failures)


def _source_kind(column: pd.Series) -> str | None:
    """The kind of values the column holds, when its dtype says so for every value."""
    dtype = column.dtype
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
    if dtype == object and pd.api.types.infer_dtype(column, skipna=True) == "string":
        return "str"
    return None


def _floats(column: pd.Series, null: np.ndarray) -> np.ndarray:
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _float_from_number(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    values = _floats(column, null)
    _check_bounds(values, ~null, spec.bounds, failures)
    return pd.Series(values, index=column.index, name=column.name)


def _int_from_int(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    if null.any():
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.abs(values[~null]).max(initial=0) >= _EXACT_FLOAT_INT:
            return None
    else:
        values = column.to_numpy()
        if values.dtype == np.uint64 and values.max(initial=0) >= 2**63:
            return None
        values = values.astype(np.int64, copy=False)
    _check_bounds(values, ~null, spec.bounds, failures)
    return _as_int_column(values, null, column)


def _int_from_float(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    values = _floats(column, null)
    present = ~null
    with np.errstate(invalid="ignore"):
        infinite = present & np.isinf(values)
        exact = present & ~infinite & (np.abs(values) < _EXACT_FLOAT_INT)
        fractional = exact & (values != np.trunc(values))
    if (present & ~infinite & ~exact).any():
        return None  # huge values: Pydantic decides where an int64 ends
    failures.add("finite_number", "Input should be a finite number", np.flatnonzero(infinite))
    failures.add(
        "int_from_float",
        "Input should be a valid integer, got a number with a fractional part",
        np.flatnonzero(fractional),
    )
    whole = exact & ~fractional
    _check_bounds(values, whole, spec.bounds, failures)
    return _as_int_column(np.where(whole, values, 0).astype(np.int64), ~whole, column)


def _as_int_column(values: np.ndarray, null: np.ndarray, column: pd.Series) -> pd.Series:
    if null.any():
        result = pd.array(values.astype(np.int64, copy=False), dtype="Int64")
        result[null] = pd.NA
        return pd.Series(result, index=column.index, name=column.name)
    return pd.Series(values, index=column.index, name=column.name)


def _check_bounds(values: np.ndarray, where: np.ndarray, bounds: Bounds, failures: Failures) -> None:
    """Apply Pydantic's numeric rules to `values[where]`; report the first rule each breaks."""
    if not bounds.any and bounds.allow_inf_nan:
        return
    pending = where.copy()
    with np.errstate(invalid="ignore"):
        if not bounds.allow_inf_nan and values.dtype.kind == "f":
            infinite = ~np.isfinite(values)
            _fail_where(pending, infinite, "finite_number", "Input should be a finite number", failures)
        if bounds.multiple_of is not None:
            message = f"Input should be a multiple of {bounds.multiple_of}"
            not_multiple = _not_multiple(values, bounds.multiple_of)
            _fail_where(pending, not_multiple, "multiple_of", message, failures)
        rules = (
            ("le", "less_than_equal", "less than or equal to", np.greater),
            ("lt", "less_than", "less than", np.greater_equal),
            ("ge", "greater_than_equal", "greater than or equal to", np.less),
            ("gt", "greater_than", "greater than", np.less_equal),
        )
        for attribute, rule, words, breaks in rules:
            limit = getattr(bounds, attribute)
            if limit is not None:
                broken = breaks(values, limit)
                _fail_where(pending, broken, rule, f"Input should be {words} {limit}", failures)


def _not_multiple(values: np.ndarray, multiple_of: float) -> np.ndarray:
    if values.dtype.kind in "iu" and isinstance(multiple_of, int):
        return values % multiple_of != 0
    as_float = values.astype(np.float64, copy=False)
    remainder = np.fmod(as_float, multiple_of)
    threshold = np.abs(as_float) / 1e9
    return (np.abs(remainder) > threshold) & (np.abs(remainder - multiple_of) > threshold)


def _fail_where(
    pending: np.ndarray, broken: np.ndarray, rule: str, message: str, failures: Failures
) -> None:
    hit = pending & broken
    if hit.any():
        failures.add(rule, message, np.flatnonzero(hit))
        pending &= ~hit


def _int_from_bool(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    ints = np.nan_to_num(values).astype(np.int64)
    _check_bounds(ints, ~null, spec.bounds, failures)
    return _as_int_column(ints, null, column)


def _bool_from_bool(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    return column


def _bool_from_number(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~null & (values != 0) & (values != 1)
    rule = "bool_parsing" if pd.api.types.is_integer_dtype(column.dtype) else "bool_type"
    failures.add(rule, "Input should be a valid boolean", np.flatnonzero(bad))
    result = pd.array(values == 1, dtype="boolean")
    if null.any():
        result[null] = pd.NA
        return pd.Series(result, index=column.index, name=column.name)
    return pd.Series(values == 1, index=column.index, name=column.name)


def _not_a_string(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    failures.add("string_type", "Input should be a valid string", np.flatnonzero(~null))
    return column


def _str_from_str(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    if spec.has_length_or_pattern:
        _check_distinct_with_pydantic(spec, column, failures)
    return column


def _choice_from_str(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    if not isinstance(spec.choices[0], str):
        return None
    bad = ~null & ~column.isin(spec.choices).to_numpy()
    allowed = ", ".join(repr(c) for c in spec.choices)
    failures.add("literal_error", f"Input should be {allowed}", np.flatnonzero(bad))
    return column


def _choice_from_int(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    if not isinstance(spec.choices[0], int):
        return _choice_rejects_all(spec, column, null, failures)
    bad = ~null & ~column.isin(spec.choices).to_numpy()
    allowed = ", ".join(repr(c) for c in spec.choices)
    failures.add("literal_error", f"Input should be {allowed}", np.flatnonzero(bad))
    return column


def _choice_rejects_all(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    if not isinstance(spec.choices[0], str):
        return None
    allowed = ", ".join(repr(c) for c in spec.choices)
    failures.add("literal_error", f"Input should be {allowed}", np.flatnonzero(~null))
    return column


def _datetime_from_datetime(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    return column


def _date_from_datetime(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    parts = column.dt
    off_midnight = (parts.hour != 0) | (parts.minute != 0) | (parts.second != 0)
    off_midnight |= parts.microsecond != 0
    bad = ~null & off_midnight.to_numpy(dtype=bool, na_value=False)
    failures.add(
        "date_from_datetime_inexact",
        "Datetimes provided to dates should have zero time - e.g. be exact dates",
        np.flatnonzero(bad),
    )
    return column


_FAST_PATHS = {
    ("float", "float"): _float_from_number,
    ("float", "int"): _float_from_number,
    ("float", "bool"): _float_from_number,
    ("int", "int"): _int_from_int,
    ("int", "float"): _int_from_float,
    ("int", "bool"): _int_from_bool,
    ("bool", "bool"): _bool_from_bool,
    ("bool", "int"): _bool_from_number,
    ("bool", "float"): _bool_from_number,
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
    ("datetime", "datetime"): _datetime_from_datetime,
    ("date", "datetime"): _date_from_datetime,
}


def _check_distinct_with_pydantic(spec: FieldSpec, column: pd.Series, failures: Failures) -> None:
    """Validate each distinct string once with Pydantic, then map verdicts onto the rows."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    errors, _ = _validate_list(spec.list_adapter, list(uniques))
    for (rule, message), bad_codes in _group(errors).items():
        failures.add(rule, message, np.flatnonzero(np.isin(codes, bad_codes)))


def _with_pydantic(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    """Validate the non-null values with Pydantic; return the converted column."""
    present = np.flatnonzero(~null)
    if isinstance(column.dtype, pd.StringDtype):
        codes, uniques = pd.factorize(column.iloc[present])
        errors, converted = _validate_list(spec.list_adapter, list(uniques))
        bad_codes = np.fromiter(errors, dtype=np.intp, count=len(errors))
        for (rule, message), codes_with_rule in _group(errors).items():
            failures.add(rule, message, present[np.isin(codes, codes_with_rule)])
        lookup = np.empty(len(uniques), dtype=object)
        good = np.setdiff1d(np.arange(len(uniques)), bad_codes)
        lookup[good] = converted
        present_values = lookup[codes]
    else:
        values = column.to_numpy(dtype=object)[present]
        errors, converted = _validate_list(spec.list_adapter, list(values))
        for (rule, message), indices in _group(errors).items():
            failures.add(rule, message, present[indices])
        present_values = np.empty(len(present), dtype=object)
        good = np.setdiff1d(np.arange(len(present)), np.fromiter(errors, dtype=np.intp))
        present_values[good] = converted
    out = np.full(len(column), None, dtype=object)
    out[present] = present_values
    return pd.Series(out, index=column.index, name=column.name).infer_objects()


def _validate_list(
    list_adapter: TypeAdapter[list[Any]], values: list[Any]
) -> tuple[dict[int, tuple[str, str]], list[Any]]:
    """Pydantic's verdict on each value: {index: (rule, message)} and the valid values converted."""
    try:
        return {}, list_adapter.validate_python(values)
    except ValidationError as error:
        errors: dict[int, tuple[str, str]] = {}
        for detail in error.errors(include_url=False, include_input=False):
            index = detail["loc"][0]
            if isinstance(index, int) and index not in errors:
                errors[index] = (detail["type"], detail["msg"])
    valid = [v for i, v in enumerate(values) if i not in errors]
    return errors, list_adapter.validate_python(valid) if valid else []


def _group(errors: dict[int, tuple[str, str]]) -> dict[tuple[str, str], np.ndarray]:
    grouped: dict[tuple[str, str], list[int]] = {}
    for index, key in errors.items():
        grouped.setdefault(key, []).append(index)
    return {key: np.asarray(indices, dtype=np.intp) for key, indices in grouped.items()}
