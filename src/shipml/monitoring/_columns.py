"""Column extraction shared by specs and profiles: numeric values and category counts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shipml.errors import MonitoringError


def numeric_values(series: pd.Series, name: str) -> tuple[np.ndarray, int]:
    """The non-null values of a numeric column as float64, and the number of nulls."""
    if not pd.api.types.is_numeric_dtype(series.dtype):
        raise MonitoringError(
            f"column '{name}' is numeric in the spec but has dtype {series.dtype}"
        )
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(values)
    if finite.all():
        return values, 0
    null = np.isnan(values)
    if np.count_nonzero(null) != np.count_nonzero(~finite):
        raise MonitoringError(
            f"column '{name}' contains infinite values; profiles need finite numbers"
        )
    return values[finite], int(np.count_nonzero(null))


def category_counts(series: pd.Series) -> pd.Series:
    """Counts of the non-null values of a column, keyed by the values as strings."""
    counts = series.value_counts(dropna=True, sort=False)
    labels = counts.index.map(str)
    counts.index = labels
    if not labels.is_unique:  # e.g. 1 and "1" in an object column
        counts = counts.groupby(level=0).sum()
    return counts
