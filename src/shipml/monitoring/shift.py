"""Prediction shift: alert when a window's predictions move more than k sigma from training.

Definition. Each prediction contributes a per-row value x:

- statistic "mean": the prediction itself (a regression output, or the predicted
  probability of the positive class for a classifier);
- statistic "positive_rate": 1 when the predicted label equals `positive_label`, else 0.

The window statistic S is the mean of x over the window's n non-null predictions.
The reference is the holdout's predictions, in holdout order, cut into consecutive
chunks of n rows (an incomplete last chunk is dropped); `baseline_mean` and
`baseline_std` are the mean and the population standard deviation (ddof=0) of S over
those chunks, as NannyML computes its thresholds. Then

    z = (S - baseline_mean) / baseline_std,   shifted when |z| > k   (k = 2 by default).

When the holdout yields fewer than 6 chunks of n rows (a window larger than a sixth of
the holdout), the standard deviation comes from the central limit theorem instead:
`baseline_std = sigma / sqrt(n)` with sigma the population standard deviation of x over
the holdout and `baseline_mean` its mean; a warning is logged (NannyML warns under 6
chunks too) and the result says `method="clt"`. If `baseline_std` is 0 (a constant
model), z is None and any change of S counts as a shift.

Why. The spread of a mean shrinks as 1/sqrt(n): a fixed tolerance would alarm on every
small window and miss real moves in large ones. Measuring the spread over chunks of the
window's own size sets the tolerance at the noise a window of that size shows when
nothing has changed; chunks rather than the formula alone because they also carry
whatever correlation neighbouring holdout rows have. Without a shift and with a roughly
normal S, |z| > 2 happens in about 4.6% of windows: that is the rule's false-alarm rate.

Spread. With `watch_std` (regressions), the standard deviation of the window's predictions
(ddof=0) is judged by the same rule: its chunk reference is the standard deviation within
each holdout chunk of n rows; the fallback below 6 chunks is the delta method,
sd(s) = sqrt((m4 - sigma^4) / n) / (2 sigma), with m4 the fourth central moment of the
holdout. The mean and the spread are two checks, each at k sigma: without a shift about
4.6% of windows cross each one at k = 2, so about 9% cross one of the two.

Class shares (multiclass) are in `class_shift`.

Storage. `PredictionReference` keeps the per-row values (as float32 offsets from the
holdout mean, base64 inside JSON: 0.5 MB for 100k rows), so chunks of any window size can
be computed later. Holdouts longer than `max_values` rows are thinned to evenly spaced
rows; the chunks of n rows are then taken from the thinned sequence.
"""

from __future__ import annotations

import base64
import logging
import math
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator

from shipml.errors import MonitoringError
from shipml.monitoring.profiles import CategoricalColumnProfile, NumericColumnProfile, Profile

logger = logging.getLogger(__name__)

DEFAULT_K = 2.0
MIN_CHUNKS = 6
DEFAULT_MAX_VALUES = 100_000

ShiftStatistic = Literal["mean", "positive_rate"]
ShiftMeasure = Literal["mean", "positive_rate", "std", "share"]


class PredictionReference(BaseModel):
    """Holdout predictions reduced to the per-row values of the shift statistic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    statistic: ShiftStatistic
    positive_label: str | None = None
    watch_std: bool = False  # also judge the spread of the predictions (regressions)
    rows: int  # holdout predictions before thinning
    offset: float  # the holdout mean; values are stored relative to it to keep float32 precise
    values: str  # per-row values minus offset, float32 little-endian, base64

    @field_validator("values")
    @classmethod
    def _check_values(cls, encoded: str) -> str:
        raw = base64.b64decode(encoded, validate=True)
        if len(raw) == 0 or len(raw) % 4:
            raise ValueError("values must encode at least one float32")
        return encoded

    @classmethod
    def from_predictions(
        cls,
        predictions: pd.Series,
        statistic: ShiftStatistic = "mean",
        positive_label: object = None,
        max_values: int = DEFAULT_MAX_VALUES,
        watch_std: bool = False,
    ) -> PredictionReference:
        """Build the reference from the holdout predictions (a named Series, in order)."""
        if predictions.name is None:
            raise MonitoringError("holdout predictions need a name: the prediction column's")
        column = str(predictions.name)
        per_row = _per_row_values(predictions, column, statistic, positive_label)
        thinned = thin_values(per_row, max_values)
        offset = float(per_row.mean())
        return cls(
            column=column,
            statistic=statistic,
            positive_label=None if positive_label is None else str(positive_label),
            watch_std=watch_std,
            rows=len(per_row),
            offset=offset,
            values=base64.b64encode((thinned - offset).astype("<f4").tobytes()).decode("ascii"),
        )

    def per_row_values(self) -> np.ndarray:
        """The stored per-row values as float64 (read-only)."""
        return self._decoded

    @cached_property
    def _decoded(self) -> np.ndarray:
        stored = np.frombuffer(base64.b64decode(self.values), dtype="<f4")
        values = stored.astype(np.float64) + self.offset
        values.flags.writeable = False
        return values

    def chunk_statistics(self, chunk_size: int, measure: ShiftMeasure = "mean") -> np.ndarray:
        """The statistic (mean, or std) of each complete consecutive chunk of stored values."""
        return chunk_statistics(self.per_row_values(), chunk_size, measure)


def chunk_statistics(values: np.ndarray, chunk_size: int, measure: ShiftMeasure) -> np.ndarray:
    """The mean (or the std, ddof=0) of each complete chunk of `chunk_size` values."""
    chunks = cut_chunks(values, chunk_size)
    statistics: np.ndarray = chunks.std(axis=1) if measure == "std" else chunks.mean(axis=1)
    return statistics


def cut_chunks(values: np.ndarray, chunk_size: int) -> np.ndarray:
    """Holdout values in order as complete consecutive chunks: one row per chunk (a view)."""
    if chunk_size < 1:
        raise MonitoringError(f"chunk size must be positive, got {chunk_size}")
    n_chunks = len(values) // chunk_size
    return values[: n_chunks * chunk_size].reshape(n_chunks, chunk_size)


class ShiftResult(BaseModel):
    """The verdict of the prediction-shift rule for one window."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    measure: ShiftMeasure
    label: str | None = None  # the class, for a class's share
    statistic: float
    baseline_mean: float
    baseline_std: float
    z: float | None  # None when baseline_std is 0
    k: float
    shifted: bool
    chunk_size: int
    n_chunks: int
    method: Literal["chunks", "clt"]

    @property
    def subject(self) -> str:
        """What was checked, as alerts name it: 'price', 'price:std', 'species=setosa'."""
        if self.measure == "share":
            return f"{self.column}={self.label}"
        return f"{self.column}:std" if self.measure == "std" else self.column


def evaluate_shift(
    reference: PredictionReference,
    statistic: float,
    rows: int,
    k: float = DEFAULT_K,
    min_chunks: int = MIN_CHUNKS,
    measure: ShiftMeasure | None = None,
    warn: bool = True,
) -> ShiftResult:
    """Apply the k-sigma rule to a window statistic computed over `rows` predictions.

    `measure` "std" judges the window's standard deviation; by default the statistic is
    the reference's own (the mean of the per-row values).
    """
    values = reference.per_row_values()
    measure = measure or reference.statistic
    return judge(reference.column, values, statistic, rows, measure, k, min_chunks, warn=warn)


def judge(
    column: str,
    values: np.ndarray,
    statistic: float,
    rows: int,
    measure: ShiftMeasure,
    k: float = DEFAULT_K,
    min_chunks: int = MIN_CHUNKS,
    label: str | None = None,
    warn: bool = True,
) -> ShiftResult:
    """The k-sigma rule for a window `statistic` over `rows`, against holdout per-row `values`.

    `warn` logs the fall-back to sigma/sqrt(n) (once per window is enough for class shares).
    """
    if rows < 1:
        raise MonitoringError("the window has no predictions to compare with the baseline")
    if k <= 0:
        raise MonitoringError(f"k must be positive, got {k}")
    chunks = chunk_statistics(values, rows, measure)
    if len(chunks) >= min_chunks:
        mean, std, method = float(chunks.mean()), float(chunks.std(ddof=0)), "chunks"
    else:
        if warn:
            logger.warning(
                "prediction shift: %d chunks of %d rows in the holdout (< %d); using sigma/sqrt(n)",
                len(chunks),
                rows,
                min_chunks,
            )
        mean, std = _clt(values, rows, measure)
        method = "clt"
    z = (statistic - mean) / std if std > 0 else None
    shifted = abs(z) > k if z is not None else not math.isclose(statistic, mean, abs_tol=1e-12)
    return ShiftResult(
        column=column,
        measure=measure,
        label=label,
        statistic=statistic,
        baseline_mean=mean,
        baseline_std=std,
        z=z,
        k=k,
        shifted=shifted,
        chunk_size=rows,
        n_chunks=len(chunks),
        method=method,
    )


def prediction_shift(
    reference: PredictionReference,
    window: Profile,
    k: float = DEFAULT_K,
    min_chunks: int = MIN_CHUNKS,
) -> ShiftResult:
    """Apply the k-sigma rule to the prediction column of a window's profile."""
    column = window.columns.get(reference.column)
    if column is None:
        raise MonitoringError(f"the window profile has no prediction column '{reference.column}'")
    statistic, rows = _window_statistic(reference, column)
    return evaluate_shift(reference, statistic, rows, k=k, min_chunks=min_chunks)


def prediction_shifts(
    reference: PredictionReference,
    window: Profile,
    k: float = DEFAULT_K,
    min_chunks: int = MIN_CHUNKS,
) -> list[ShiftResult]:
    """The mean (or positive rate) rule, and with `watch_std` the spread rule too."""
    results = [prediction_shift(reference, window, k=k, min_chunks=min_chunks)]
    column = window.columns[reference.column]
    if reference.watch_std and isinstance(column, NumericColumnProfile):
        std = column.moments.std
        if std is not None:
            rows = column.moments.count
            spread = evaluate_shift(reference, std, rows, k, min_chunks, "std", warn=False)
            results.append(spread)
    return results


def _clt(values: np.ndarray, rows: int, measure: ShiftMeasure) -> tuple[float, float]:
    """Mean and standard deviation of the window statistic, from the holdout's moments."""
    sigma = float(values.std(ddof=0))
    if measure != "std":
        return float(values.mean()), sigma / math.sqrt(rows)
    fourth = float(np.mean((values - values.mean()) ** 4))
    spread = math.sqrt(max(fourth - sigma**4, 0.0) / rows) / (2 * sigma) if sigma > 0 else 0.0
    return sigma, spread


def _window_statistic(
    reference: PredictionReference, column: NumericColumnProfile | CategoricalColumnProfile
) -> tuple[float, int]:
    if reference.statistic == "mean":
        if not isinstance(column, NumericColumnProfile):
            raise MonitoringError(
                f"statistic 'mean' needs a numeric column; '{reference.column}' is categorical"
            )
        return column.moments.mean, column.moments.count
    if not isinstance(column, CategoricalColumnProfile):
        raise MonitoringError(
            f"statistic 'positive_rate' needs a categorical column; '{reference.column}' "
            f"is numeric (for 0/1 labels use statistic 'mean')"
        )
    if reference.positive_label not in column.categories:
        raise MonitoringError(
            f"positive label {reference.positive_label!r} is not a category of '{reference.column}'"
        )
    rows = column.rows - column.nulls
    if rows == 0:
        raise MonitoringError("the window has no predictions to compare with the baseline")
    positives = column.counts[column.categories.index(reference.positive_label)]
    return positives / rows, rows


def _per_row_values(
    predictions: pd.Series, column: str, statistic: ShiftStatistic, positive_label: object
) -> np.ndarray:
    nulls = int(predictions.isna().sum())
    if nulls:
        raise MonitoringError(f"holdout predictions '{column}' contain {nulls} nulls")
    if len(predictions) == 0:
        raise MonitoringError(f"holdout predictions '{column}' are empty")
    if statistic == "positive_rate":
        if positive_label is None:
            raise MonitoringError("statistic 'positive_rate' needs a positive_label")
        return (predictions.astype(str) == str(positive_label)).to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(predictions.dtype):
        raise MonitoringError(
            f"statistic 'mean' needs numeric predictions; '{column}' has dtype {predictions.dtype}"
        )
    values = predictions.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise MonitoringError(f"holdout predictions '{column}' contain infinite values")
    return values


def thin_values(values: np.ndarray, max_values: int) -> np.ndarray:
    """At most `max_values` evenly spaced values, in order (all of them when fewer)."""
    if max_values < 1:
        raise MonitoringError(f"max_values must be positive, got {max_values}")
    if len(values) <= max_values:
        return values
    keep = np.linspace(0, len(values) - 1, max_values).round().astype(np.int64)
    return values[keep]


def one_sided(
    value: float, mean: float, std: float, k: float, *, lower_is_better: bool = False
) -> tuple[float | None, bool]:
    """z of `value` against chunks of (mean, std), and whether it is more than k sigma worse
    (with a constant baseline: any move to the worse side; z is then None)."""
    sign = 1.0 if lower_is_better else -1.0  # the direction of "worse"
    if std > 0:
        z = (value - mean) / std
        return z, sign * z > k
    return None, sign * (value - mean) > 0 and not math.isclose(value, mean, abs_tol=1e-12)
