"""A window's monitoring profile computed in parts that merge into exactly the whole's.

Counts, histograms, category counts, minima and maxima merge exactly (`Profile.merge`).
Means are made exact too: each part keeps the exact sum of every numeric column's values
(a `Fraction`), and a mean is the exact sum divided by the count, rounded once. So the
prediction-shift statistic (the mean of the predictions) is bit for bit the same however the
window was cut, and a window profiled whole (the local engine) is one part. The spread (`m2`)
merges with Chan's update: it equals a one-pass computation to about 1e-15 relative, not bit
for bit; no monitoring rule reads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from shipml.monitoring import MonitoringBaseline, NumericColumnProfile, Profile, profile
from shipml.project.observe import FEATURES, PREDICTIONS

_CHUNK = 1 << 20  # values summed at once: 2**20 digits below 2**32 add up exactly in float64
_DIGIT_BITS = 32
_DIGIT = float(1 << _DIGIT_BITS)
_SAFE_SPAN = 900  # exponents further apart than this could underflow when scaled: exact path
_LEVELS_MAX = (53 + _SAFE_SPAN) // _DIGIT_BITS + 2  # digits a value spans at most on the grid


@dataclass(frozen=True)
class ProfilePart:
    """The profile of a part of a window, with the exact sum of each numeric column."""

    profile: Profile
    sums: Mapping[str, Fraction]


def profile_part(baseline: MonitoringBaseline, kept: Mapping[str, pd.DataFrame]) -> ProfilePart:
    """Profile the kept features and predictions of (a part of) a window on the baseline's bins."""
    features, predictions = kept[FEATURES], kept[PREDICTIONS]
    extra = predictions.columns.difference(features.columns)
    frame = pd.concat([features, predictions[extra]], axis=1)
    columns = [name for name in baseline.spec.columns if name in frame.columns]
    profiled = profile(frame[columns], baseline.spec.select(columns))
    if baseline.performance is not None:
        confidence = baseline.performance.summarize(predictions)
        profiled = profiled.model_copy(update={"confidence": confidence})
    sums = {
        name: _column_sum(frame[name])
        for name, column in profiled.columns.items()
        if isinstance(column, NumericColumnProfile)
    }
    return ProfilePart(profiled, sums)


def merge_profile_parts(parts: Sequence[ProfilePart]) -> Profile:
    """The window's profile from its parts' (any order of cutting gives the same means)."""
    merged = parts[0].profile
    for part in parts[1:]:
        merged = merged.merge(part.profile)
    columns = dict(merged.columns)
    for name, column in merged.columns.items():
        if isinstance(column, NumericColumnProfile) and column.moments.count:
            total = sum((part.sums[name] for part in parts), Fraction(0))
            mean = float(total / column.moments.count)  # Fraction -> float rounds correctly
            moments = column.moments.model_copy(update={"mean": mean})
            columns[name] = column.model_copy(update={"moments": moments})
    return merged.model_copy(update={"columns": columns})


def exact_sum(values: np.ndarray) -> Fraction:
    """The exact sum of finite float64 values (no rounding at all)."""
    total = Fraction(0)
    for start in range(0, len(values), _CHUNK):
        total += _chunk_sum(values[start : start + _CHUNK])
    return total


def _chunk_sum(values: np.ndarray) -> Fraction:
    """Cut every value into 32-bit digits on one grid; sum each digit column exactly."""
    if not len(values):
        return Fraction(0)
    _, exponents = np.frexp(values)
    top, bottom = int(exponents.max()), int(exponents.min())
    if top - bottom > _SAFE_SPAN:  # values of wildly different magnitudes: slow but exact
        return sum(map(Fraction, values.tolist()), Fraction(0))
    rest = np.ldexp(values, -top)  # |rest| < 1, scaled exactly
    digits = np.empty_like(rest)
    total, level = 0, 0
    while True:
        level += 1
        np.multiply(rest, _DIGIT, out=rest)
        np.modf(rest, out=(rest, digits))
        # Each digit is an integer below 2**32: the float sum of a chunk is exact.
        total += int(digits.sum()) << (_DIGIT_BITS * (_LEVELS_MAX - level))
        if not rest.any():
            break
    return Fraction(total) * Fraction(2) ** (top - _DIGIT_BITS * _LEVELS_MAX)


def _column_sum(series: pd.Series) -> Fraction:
    """The exact sum of a numeric column's non-null values (profiling refused infinities)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return Fraction(int(np.count_nonzero(series.to_numpy())))
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return exact_sum(values[~np.isnan(values)])
