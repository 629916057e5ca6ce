"""Columns against date and datetime fields: declared formats, epoch numbers, pyarrow dates.

Each check has the signature of `_columns`' fast paths: it records failures and returns the
column as the field's type, or None when Pydantic must see (some of) the values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shipml.contracts._failures import Failures
from shipml.contracts._fields import FieldSpec
from shipml.contracts._parse_dates import (
    EPOCH_FORMATS,
    as_dates,
    epoch_bounds,
    midnight,
    parse_texts,
)

INEXACT_DATE = (
    "date_from_datetime_inexact",
    "Datetimes provided to dates should have zero time - e.g. be exact dates",
)


def format_error(spec: FieldSpec) -> tuple[str, str]:
    """(rule, message) of a value that no declared format reads."""
    assert spec.date_format is not None and spec.kind is not None
    error = spec.date_format.error(spec.kind)
    return error.type, error.message()


def temporal_from_text(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    """A date or datetime field from strings, read by the field's declared formats."""
    if spec.date_format is None or spec.date_format.epoch:
        return None  # digits as epoch numbers: Pydantic, once per distinct string
    parsed = parse_texts(column, spec.date_format.formats)
    codes = parsed.codes
    if not parsed.parsed.all():
        unread = np.flatnonzero(~parsed.parsed)
        failures.add(*format_error(spec), np.flatnonzero(np.isin(codes, unread)))
    if spec.kind == "datetime":
        values = parsed.values.array.take(codes, allow_fill=True)
        return pd.Series(values, index=column.index, name=column.name)
    inexact = np.flatnonzero(parsed.parsed & ~midnight(parsed.values))
    if len(inexact):
        failures.add(*INEXACT_DATE, np.flatnonzero(np.isin(codes, inexact)))
    dates = np.append(as_dates(parsed.values), [None])  # code -1 (null) takes the last entry
    return pd.Series(dates[codes], index=column.index, name=column.name)


_INT64_SAFE = 2.0**62


def datetime_from_epoch(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series | None:
    """A datetime field from whole numbers of epoch seconds or milliseconds (exact)."""
    unit = spec.date_format.epoch if spec.date_format is not None else None
    if unit is None:
        return None
    if pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        present = values[~null]
        if not (np.isfinite(present).all() and (np.abs(present) < _INT64_SAFE).all()):
            return None  # infinite or huge: Pydantic decides
        if (present != np.trunc(present)).any():
            return None  # fractions: Pydantic rounds them to microseconds
        numbers = np.where(null, 0, values).astype(np.int64)
    elif column.dtype.kind == "u" and len(column) and column.max() >= 2**63:
        return None
    else:
        numbers = column.to_numpy(dtype=np.int64, na_value=0)
    low, high = epoch_bounds(unit)
    outside = ~null & ((numbers < low) | (numbers > high))
    failures.add(*format_error(spec), np.flatnonzero(outside))
    missing = null | outside
    micros = np.where(missing, 0, numbers) * EPOCH_FORMATS[unit]
    stamps = micros.view("datetime64[us]").copy()
    stamps[missing] = np.datetime64("NaT")
    times = pd.DatetimeIndex(stamps).tz_localize("UTC")
    return pd.Series(times, index=column.index, name=column.name)


def datetime_from_date(
    spec: FieldSpec, column: pd.Series, null: np.ndarray, failures: Failures
) -> pd.Series:
    """A datetime field from a pyarrow date column: every date is a datetime at midnight."""
    return column.astype("datetime64[us]")
