"""Numeric columns against int, float and bool fields, with Pydantic's numeric rules.

Each check returns the column as the field's type and records failures; None means the
values need Pydantic (ints beyond int64, say).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shipml.contracts._failures import Failures
from shipml.contracts._fields import Bounds, FieldSpec

_INT64_SAFE = 2.0**63  # floats below this in magnitude convert to int64 exactly
NULL_RULE = ("null", "value is null but the field is not optional")
# Values per block when one array takes several passes: the passes after a block's first
# read it from the CPU cache, not from memory (512 KiB of float64).
_BLOCK = 1 << 16


@dataclass(frozen=True)
class Extremes:
    """The lowest and highest non-NaN values of an array (NaN if none), and its NaN count."""

    lowest: Any
    highest: Any
    nans: int


def extremes(values: np.ndarray) -> Extremes:
    """The extremes and NaN count of `values`, reading each block of them from memory once."""
    if values.dtype.kind != "f":
        if not len(values):
            return Extremes(np.nan, np.nan, 0)
        return Extremes(values.min(), values.max(), 0)  # no NaN: min/max are faster than fmin
    lowest, highest, nans = np.nan, np.nan, 0
    flags = np.empty(min(len(values), _BLOCK), dtype=bool)
    for start in range(0, len(values), _BLOCK):
        block = values[start : start + _BLOCK]
        nans += int(np.count_nonzero(np.isnan(block, out=flags[: len(block)])))
        lowest = np.fmin(lowest, np.fmin.reduce(block))
        highest = np.fmax(highest, np.fmax.reduce(block))
    return Extremes(lowest, highest, nans)


def check_floats(spec: FieldSpec, values: np.ndarray, failures: Failures) -> int:
    """A float field from a float64 column (NaN: null): record failures, return the nulls.

    One read of the values gives the null count and the extremes (when a limit needs them);
    the null mask is built only when a rule needs it (a field that takes no null, or no NaN),
    the bound masks only when an extreme breaks a limit.
    """
    bounds = spec.bounds
    limited = bounds.any or not bounds.allow_inf_nan
    found = extremes(values) if limited else None
    nans = found.nans if found is not None else int(np.count_nonzero(np.isnan(values)))
    where = None
    if nans and (not spec.nullable or not bounds.allow_inf_nan):
        null = np.isnan(values)
        if not spec.nullable:
            failures.add(*NULL_RULE, np.flatnonzero(null))
        where = None if bounds.allow_inf_nan else ~null
    if found is not None:
        _check_bounds(values, where, bounds, failures, found)
    return nans


def float_from_number(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    """A float field from a float, int or bool column: every value is a float."""
    values = _floats(column)
    # NaN (null) compares False against every limit, so only allow_inf_nan needs the mask.
    _check_bounds(values, None if spec.bounds.allow_inf_nan else ~null, spec.bounds, failures)
    if column.dtype == np.float64:
        return column
    return pd.Series(values, index=column.index, name=column.name)


def _floats(column: pd.Series) -> np.ndarray:
    """The column as float64, NaN for nulls; a float64 column without a copy (read only)."""
    if column.dtype == np.float64:
        return column.to_numpy()  # NaN already marks its nulls
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def int_from_int(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    """An int field from an int column: only the bounds can fail."""
    if column.dtype.kind == "u" and column.max() >= 2**63:
        return None  # beyond int64: Pydantic's big ints decide
    if null.any():
        values = column.to_numpy(dtype=np.int64, na_value=0)
        _check_bounds(values, ~null, spec.bounds, failures)
        return column
    values = column.to_numpy().astype(np.int64, copy=False)
    _check_bounds(values, None, spec.bounds, failures)
    return column


def int_from_float(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    """An int field from a float column: whole, finite values pass (then the bounds)."""
    values = _floats(column)
    with np.errstate(invalid="ignore"):
        infinite = np.isinf(values)
        huge = ~infinite & (np.abs(values) >= _INT64_SAFE)
        if huge.any():
            return None  # Pydantic decides where an int ends
        fractional = values != np.trunc(values)  # NaN: True, but NaN is null
    fractional &= ~null
    failures.add("finite_number", "Input should be a finite number", np.flatnonzero(infinite))
    failures.add(
        "int_from_float",
        "Input should be a valid integer, got a number with a fractional part",
        np.flatnonzero(fractional),
    )
    whole = ~(null | infinite | fractional)
    ints = np.where(whole, values, 0).astype(np.int64)
    _check_bounds(ints, whole, spec.bounds, failures)
    return _int_column(ints, ~whole, column)


def int_from_bool(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    """An int field from a bool column: True is 1, False is 0."""
    # through numpy bools: a pyarrow bool column will not put 0 in for its nulls
    ints = column.to_numpy(dtype=bool, na_value=False).astype(np.int64)
    _check_bounds(ints, ~null, spec.bounds, failures)
    return _int_column(ints, null, column)


def _int_column(values: np.ndarray, missing: np.ndarray, column: pd.Series) -> pd.Series:
    """An int64 column, nullable (Int64) when some values are missing."""
    if missing.any():
        return pd.Series(
            pd.arrays.IntegerArray(values, missing.copy()), index=column.index, name=column.name
        )
    return pd.Series(values, index=column.index, name=column.name)


def _check_bounds(
    values: np.ndarray,
    where: np.ndarray | None,
    bounds: Bounds,
    failures: Failures,
    found: Extremes | None = None,
) -> None:
    """Apply Pydantic's numeric rules to `values[where]` (all values when `where` is None).

    A value that breaks several rules is reported under the first, as Pydantic does.
    `found`: the values' extremes, when the caller has them.
    """
    if (not bounds.any and bounds.allow_inf_nan) or _within_limits(values, bounds, found):
        return
    rules: list[tuple[str, str, Callable[[], np.ndarray]]] = []
    if not bounds.allow_inf_nan and values.dtype.kind == "f":
        message = "Input should be a finite number"
        rules.append(("finite_number", message, lambda: ~np.isfinite(values)))
    multiple_of = bounds.multiple_of
    if multiple_of is not None:
        message = f"Input should be a multiple of {multiple_of}"
        rules.append(("multiple_of", message, lambda: _not_multiple(values, multiple_of)))
    limits = (
        ("le", "less_than_equal", "less than or equal to", np.greater),
        ("lt", "less_than", "less than", np.greater_equal),
        ("ge", "greater_than_equal", "greater than or equal to", np.less),
        ("gt", "greater_than", "greater than", np.less_equal),
    )
    for attribute, rule, words, breaks in limits:
        limit = getattr(bounds, attribute)
        if limit is not None:
            message = f"Input should be {words} {limit}"
            rules.append((rule, message, _comparison(breaks, values, limit)))
    reported: np.ndarray | None = None
    with np.errstate(invalid="ignore", over="ignore"):
        for rule, message, broken_by in rules:
            broken = broken_by()
            if not broken.any():
                continue  # the clean path: one comparison and one scan per rule
            if where is not None:
                broken &= where
            if reported is not None:
                broken &= ~reported
            failures.add(rule, message, np.flatnonzero(broken))
            reported = broken if reported is None else reported | broken


def _within_limits(values: np.ndarray, bounds: Bounds, found: Extremes | None = None) -> bool:
    """True when the extremes show that no value breaks a limit: no masks needed."""
    if bounds.multiple_of is not None:
        return False
    if not len(values):
        return True
    if found is None:
        found = extremes(values)
    lowest, highest = found.lowest, found.highest  # NaN ignored
    if not bounds.allow_inf_nan and not (np.isfinite(lowest) and np.isfinite(highest)):
        return False
    return (
        (bounds.le is None or highest <= bounds.le)
        and (bounds.lt is None or highest < bounds.lt)
        and (bounds.ge is None or lowest >= bounds.ge)
        and (bounds.gt is None or lowest > bounds.gt)
    )


def _comparison(breaks: np.ufunc, values: np.ndarray, limit: float) -> Callable[[], np.ndarray]:
    return lambda: breaks(values, limit)


def _not_multiple(values: np.ndarray, multiple_of: float) -> np.ndarray:
    """Pydantic's test: integers exactly; floats within 1e-9 of the nearest multiple."""
    broken: np.ndarray
    if values.dtype.kind in "iu" and isinstance(multiple_of, int):
        broken = values % multiple_of != 0
        return broken
    as_float = values.astype(np.float64, copy=False)
    nearest = _round_half_away(as_float / multiple_of) * multiple_of
    broken = np.abs(as_float - nearest) > 1e-9
    return broken


def _round_half_away(values: np.ndarray) -> np.ndarray:
    """Round to the nearest integer, halves away from zero (Rust's `f64::round`)."""
    whole = np.trunc(values)
    rounded: np.ndarray = np.where(np.abs(values - whole) >= 0.5, whole + np.sign(values), whole)
    return rounded


def bool_from_number(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    """A bool field from a number column: 0 and 1 pass, other numbers fail."""
    values = column.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~null & (values != 0) & (values != 1)
    rule = "bool_parsing" if pd.api.types.is_integer_dtype(column.dtype) else "bool_type"
    failures.add(rule, "Input should be a valid boolean", np.flatnonzero(bad))
    missing = null | bad
    if missing.any():
        result = pd.arrays.BooleanArray(values == 1, missing.copy())
        return pd.Series(result, index=column.index, name=column.name)
    return pd.Series(values == 1, index=column.index, name=column.name)
