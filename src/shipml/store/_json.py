"""Turning frame values into JSON that both SQLite and PostgreSQL accept."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]
_DatetimeUnit = Literal["Y", "M", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as"]


def json_safe(value: Any) -> JsonValue:
    """`value` as plain JSON: NaN/NA/NaT -> null, ±inf -> "inf"/"-inf", dates -> ISO 8601.

    Numpy scalars and arrays become Python numbers and lists; anything else unknown
    is kept as its `str()` so that a quarantined row is never lost for its type.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [json_safe(item) for item in value]
    if isinstance(value, pd.Timedelta):
        return value.isoformat()
    return str(value)


def frame_payloads(frame: pd.DataFrame) -> list[dict[str, JsonValue]]:
    """One JSON-safe dict per row of `frame`, keyed by column name (same rules as `json_safe`)."""
    names = [str(name) for name in frame.columns]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"the frame has duplicate column names {duplicated}")
    if not names:
        return [{} for _ in range(len(frame))]
    columns = [_column_values(frame.iloc[:, i]) for i in range(len(names))]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _column_values(column: pd.Series) -> list[JsonValue]:
    """`json_safe` over a column, with fast paths for the common numpy dtypes."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return column.tolist()
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = column.to_numpy()
        converted = values.tolist()
        for position in np.flatnonzero(~np.isfinite(values)):
            converted[position] = _json_float(converted[position])
        return converted
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _iso_strings(column)
    return [json_safe(value) for value in column.tolist()]


def _iso_strings(column: pd.Series) -> list[JsonValue]:
    """ISO 8601 text of a datetime64 column; aware values in UTC with a "Z" suffix."""
    aware = column.dt.tz is not None
    naive = column.dt.tz_convert("UTC").dt.tz_localize(None) if aware else column
    values: np.ndarray = naive.to_numpy()
    timezone: Literal["UTC", "naive"] = "UTC" if aware else "naive"
    texts: list[JsonValue] = np.datetime_as_string(
        values, unit=_finest_unit_needed(values), timezone=timezone
    ).tolist()
    for position in np.flatnonzero(column.isna().to_numpy()):
        texts[position] = None
    return texts


def _finest_unit_needed(values: np.ndarray) -> _DatetimeUnit:
    """Seconds when every value is a whole second (the usual case), else the values' unit."""
    unit = cast(_DatetimeUnit, np.datetime_data(values.dtype)[0])  # one of numpy's units
    whole_seconds = values.astype("datetime64[s]").astype(values.dtype)
    present = ~np.isnat(values)
    return "s" if np.array_equal(values[present], whole_seconds[present]) else unit


def _json_float(value: float) -> JsonValue:
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value
