"""Reference statistics of a frame, used by the diagnoses (renames by distribution, null rates).

A `Baseline` is computed once on the training data, stored with the model as JSON, and
passed to `validate()` later. Per column it keeps the kind of values, the null rate, the
deciles, mean and standard deviation of numbers, and the shares of the most common values.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

QUANTILE_LEVELS = tuple(i / 10 for i in range(11))  # min, the nine deciles, max
TOP_CATEGORIES = 50

ColumnKind = Literal["numeric", "categorical", "boolean", "datetime", "other"]


class ColumnBaseline(BaseModel):
    """What a column looked like in the reference data."""

    kind: ColumnKind
    rows: int
    null_rate: float
    distinct: int | None = None  # distinct non-null values (categorical and boolean)
    quantiles: list[float] = Field(default_factory=list)  # at QUANTILE_LEVELS; epoch s for datetime
    mean: float | None = None
    std: float | None = None
    frequencies: dict[str, float] = Field(default_factory=dict)  # top values -> share of non-null

    @classmethod
    def from_series(cls, column: pd.Series) -> ColumnBaseline:
        """Compute the statistics of one column."""
        rows = len(column)
        present = column.dropna()
        null_rate = (rows - len(present)) / rows if rows else 0.0
        kind = column_kind(column)
        stats: dict[str, Any] = {}
        if kind == "numeric":
            stats = _number_stats(present.to_numpy(dtype=np.float64, na_value=np.nan))
        elif kind == "datetime":
            stats = _number_stats(_epoch_seconds(present))
        elif kind in ("categorical", "boolean"):
            stats = _frequency_stats(present)
        return cls(kind=kind, rows=rows, null_rate=null_rate, **stats)

    @property
    def top_share(self) -> float:
        """The share of non-null values covered by `frequencies`."""
        return sum(self.frequencies.values())

    @property
    def median(self) -> float | None:
        """The median of a numeric or datetime column."""
        return self.quantiles[len(self.quantiles) // 2] if self.quantiles else None

    def distance(self, other: ColumnBaseline) -> float | None:
        """How far the value distributions are apart, 0 = alike; None when not comparable.

        Numbers: the largest gap between inner deciles, over the 10%-90% spread of `self`.
        Categories: total variation distance over the top values (the rest pooled).
        Datetimes are not compared: new data is expected to be later than the reference.
        """
        if self.kind != other.kind:
            return None
        if self.kind == "numeric":
            return _quantile_distance(self.quantiles, other.quantiles)
        if self.kind in ("categorical", "boolean"):
            return _frequency_distance(self.frequencies, other.frequencies)
        return None

    def is_distinctive(self) -> bool:
        """True when the distribution is specific enough to recognise the column by it."""
        if self.kind == "numeric":
            inner = self.quantiles[1:-1]
            return len(set(inner)) >= 3
        if self.kind in ("categorical", "boolean"):
            shares = self.frequencies.values()
            return len(self.frequencies) >= 2 and self.top_share >= 0.8 and max(shares) <= 0.95
        return False


class Baseline(BaseModel):
    """Per-column reference statistics of a frame."""

    rows: int
    columns: dict[str, ColumnBaseline]

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Baseline:
        """Compute the baseline of `df` (one pass per column)."""
        duplicated = df.columns[df.columns.duplicated()]
        if len(duplicated):
            raise ValueError(
                f"cannot compute a baseline: column {duplicated[0]!r} appears more than once"
            )
        columns = {str(name): ColumnBaseline.from_series(df[name]) for name in df.columns}
        return cls(rows=len(df), columns=columns)


def column_kind(column: pd.Series) -> ColumnKind:
    """The kind of statistics that describe the column, read from its dtype."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype | pd.StringDtype):
        return "categorical"
    if pd.api.types.is_object_dtype(dtype) and _holds_strings(column):
        return "categorical"
    return "other"


def _holds_strings(column: pd.Series) -> bool:
    """Whether an object column holds strings, judged on about a thousand of its values."""
    sample = column.iloc[:: max(1, len(column) // 1000)]
    return pd.api.types.infer_dtype(sample) == "string"


def _number_stats(values: np.ndarray) -> dict[str, Any]:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return {}
    std = float(finite.std())
    return {
        "quantiles": [float(q) for q in np.quantile(finite, QUANTILE_LEVELS)],
        "mean": float(finite.mean()),
        "std": std if math.isfinite(std) else None,  # inf when the values overflow
    }


def _epoch_seconds(present: pd.Series) -> np.ndarray:
    microseconds = pd.DatetimeIndex(present).as_unit("us").asi8
    return microseconds.astype(np.float64) / 1e6


def _frequency_stats(present: pd.Series) -> dict[str, Any]:
    if not len(present):
        return {}
    counts = present.value_counts(sort=True)
    top = counts.iloc[:TOP_CATEGORIES]
    return {
        "distinct": len(counts),
        "frequencies": {str(value): int(count) / len(present) for value, count in top.items()},
    }


def _quantile_distance(reference: list[float], current: list[float]) -> float | None:
    if len(reference) != len(QUANTILE_LEVELS) or len(current) != len(QUANTILE_LEVELS):
        return None
    ref = np.asarray(reference[1:-1])
    cur = np.asarray(current[1:-1])
    spread = ref[-1] - ref[0] or reference[-1] - reference[0]
    gap = float(np.abs(ref - cur).max())
    if spread <= 0:
        return 0.0 if gap == 0 else 1.0
    return gap / spread


def _frequency_distance(reference: dict[str, float], current: dict[str, float]) -> float | None:
    if not reference or not current:
        return None
    keys = reference.keys() | current.keys()
    gaps = sum(abs(reference.get(k, 0.0) - current.get(k, 0.0)) for k in keys)
    rest_gap = abs(sum(reference.values()) - sum(current.values()))  # the values not listed
    return 0.5 * (gaps + rest_gap)
