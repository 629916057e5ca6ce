"""Isotonic calibration of a binary classifier's probabilities, as NannyML's CBPE does it.

CBPE reads a calibrated probability p as "this row is positive with probability p"; a
model whose scores are not calibrated gives wrong estimates. So, at training time, the
holdout's probabilities of the positive class are checked against its labels:

`needs_calibration` follows NannyML 0.13 (`nannyml.calibration.needs_calibration`): a
near-perfect ranking (ROC AUC > 0.999) needs none; otherwise ten stratified 90/10 splits
(seed 42) each fit an isotonic regression on the 90% and calibrate the 10%; the ten 10%
parts pooled, calibration is needed when their expected calibration error (ECE, 10 bins of
equal counts by rank) is lower after than before. A holdout too small to split so (a class
with a single row, a 10% part under 2 rows) is left uncalibrated, where NannyML fails.
When needed, `IsotonicCalibration.fit` fits scikit-learn's `IsotonicRegression`
(`out_of_bounds="clip"`) on the whole holdout; only its knots are kept, and `apply` is the
same piecewise-linear interpolation (`np.interp`), so no scikit-learn object is stored.
`apply` finds each value's segment between knots in a uniform grid over the knots' range
rather than by np.interp's binary search (5x faster on a window), then computes np.interp's
own formula, so its results are np.interp's to the bit.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

from shipml.errors import MonitoringError

_SPLITS = 10
_TEST_SHARE = 0.1
_SPLIT_SEED = 42
_ECE_BINS = 10
_NEAR_PERFECT_AUC = 0.999  # NannyML 0.13: a ranking this good needs no calibration
_CELLS_PER_KNOT = 32  # grid cells of `_Segments`: few values share a knot's cell
_GRID_MIN_VALUES = 1_000  # fewer: np.interp's search costs less than building the grid


class IsotonicCalibration(BaseModel):
    """A fitted isotonic map from raw to calibrated probability (its knots)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    x: list[float]  # increasing raw probabilities
    y: list[float]  # calibrated probability at each knot, non-decreasing

    @model_validator(mode="after")
    def _check_knots(self) -> IsotonicCalibration:
        if not self.x or len(self.x) != len(self.y):
            raise ValueError("a calibration needs as many calibrated values as knots (>= 1)")
        return self

    @classmethod
    def fit(cls, probabilities: np.ndarray, positive: np.ndarray) -> IsotonicCalibration:
        """Fit on raw probabilities and the 0/1 truth (scikit-learn's isotonic regression)."""
        scores, truth = _checked(probabilities, positive)
        if len(np.unique(truth)) != 2:
            raise MonitoringError("calibration needs both classes among the holdout's labels")
        regression = _isotonic(scores, truth)
        return cls(
            x=[float(v) for v in regression.X_thresholds_],
            y=[float(v) for v in regression.y_thresholds_],
        )

    def apply(self, probabilities: np.ndarray) -> np.ndarray:
        """The calibrated probabilities (clipped to the knots' range, as scikit-learn does)."""
        values = np.asarray(probabilities, dtype=np.float64)
        segments = self._lookup(values)
        if segments is None:
            calibrated: np.ndarray = np.interp(values, *self._arrays)
            return calibrated
        return segments.apply(values)[0]

    def apply_segments(self, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The calibrated probabilities and each one's segment: the number of knots at or
        below it (`np.searchsorted(x, p, "right")`; 0 and len(x) are beyond the ends)."""
        values = np.asarray(probabilities, dtype=np.float64)
        segments = self._lookup(values)
        if segments is None:
            knots, calibrated = self._arrays
            found = np.searchsorted(knots, values, side="right")
            return np.interp(values, knots, calibrated), found
        return segments.apply(values)

    def constant_segments(self) -> np.ndarray:
        """Per segment (see `apply_segments`), whether its calibrated value is one constant:
        the knot's value where the map is flat, as beyond both ends."""
        knots, calibrated = self._arrays
        flat = np.ones(len(knots) + 1, dtype=bool)
        flat[1:-1] = calibrated[1:] == calibrated[:-1]
        return flat

    def segment_values(self) -> np.ndarray:
        """Per segment, the calibrated value at its start (the first knot's before it)."""
        calibrated = self._arrays[1]
        values: np.ndarray = np.concatenate([calibrated[:1], calibrated])
        return values

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.x, dtype=np.float64), np.asarray(self.y, dtype=np.float64)

    @cached_property
    def _segments(self) -> _Segments | None:
        return _Segments.of(*self._arrays)

    def _lookup(self, values: np.ndarray) -> _Segments | None:
        """The grid lookup for `values`, or None where np.interp itself is used (few values,
        or a value not finite)."""
        if values.size < _GRID_MIN_VALUES or not np.isfinite(values).all():
            return None
        return self._segments


@dataclass(frozen=True)
class _Segments:
    """np.interp on fixed knots, its binary search replaced by a uniform grid's lookup.

    A value's cell is trunc((v - start) * scale), clipped to the grid: a monotone function,
    computed alike for the knots and the values, so the knots in cells before a value's are
    below it and those in cells after it above it. In a cell without a knot every value has
    one segment, the number of knots in the cells before (`segment[cell]`); the few values in
    a cell with a knot (-1) are searched among the knots, as np.searchsorted does.
    """

    start: float
    scale: float
    cells: int
    segment: np.ndarray  # per cell: its values' segment, -1 where a knot is in the cell
    knots: np.ndarray  # the knots, the segment s starting at knots[s - 1] (the first for 0)
    start_knot: np.ndarray  # per segment: the knot it starts at
    value: np.ndarray  # per segment: the calibrated value at its start
    slope: np.ndarray  # per segment: np.interp's slope (0 beyond both ends)

    @classmethod
    def of(cls, knots: np.ndarray, values: np.ndarray) -> _Segments | None:
        """The lookup of these knots, or None where np.interp itself is needed (fewer than 2
        knots, not strictly increasing, a value or slope not finite)."""
        if len(knots) < 2:
            return None
        width = knots[1:] - knots[:-1]
        if not (width > 0).all() or not math.isfinite(knots[-1] - knots[0]):
            return None
        with np.errstate(all="ignore"):
            slope = (values[1:] - values[:-1]) / width  # np.interp's, to the bit
        if not np.isfinite(slope).all():  # a value not finite makes a slope so too
            return None
        cells = _CELLS_PER_KNOT * len(knots)
        start, scale = float(knots[0]), cells / float(knots[-1] - knots[0])
        if not math.isfinite(scale):  # knots closer than float's range allows
            return None
        cell = _cell(knots, start, scale, cells)
        gaps = np.empty(len(knots) + 1, dtype=np.intp)  # cells between consecutive knots'
        gaps[0], gaps[1:-1], gaps[-1] = cell[0] + 1, cell[1:] - cell[:-1], cells - 1 - cell[-1]
        segment = np.repeat(np.arange(len(knots) + 1), gaps)
        segment[cell] = -1
        return cls(
            start=start,
            scale=scale,
            cells=cells,
            segment=segment,
            knots=knots,
            start_knot=np.concatenate([knots[:1], knots]),
            value=np.concatenate([values[:1], values]),
            slope=np.concatenate([[0.0], slope, [0.0]]),
        )

    def apply(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """np.interp of finite values, and their segments."""
        segment = self.segment.take(_cell(values, self.start, self.scale, self.cells))
        near = np.flatnonzero(segment < 0)
        segment[near] = np.searchsorted(self.knots, values[near], side="right")
        calibrated = values - self.start_knot.take(segment)
        calibrated *= self.slope.take(segment)  # slope * (x - xp[j]) + fp[j], as np.interp
        calibrated += self.value.take(segment)
        return calibrated, segment


def _cell(values: np.ndarray, start: float, scale: float, cells: int) -> np.ndarray:
    position = values - start
    position *= scale
    np.maximum(position, 0, out=position)  # np.clip, without its wrapper's 3 us
    np.minimum(position, cells - 1, out=position)
    cell: np.ndarray = position.astype(np.intp)
    return cell


def needs_calibration(probabilities: np.ndarray, positive: np.ndarray) -> bool:
    """Whether isotonic calibration lowers the expected calibration error (NannyML's test)."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedShuffleSplit

    scores, truth = _checked(probabilities, positive)
    if not _splittable(truth) or roc_auc_score(truth, scores) > _NEAR_PERFECT_AUC:
        return False
    splits = StratifiedShuffleSplit(
        n_splits=_SPLITS, test_size=_TEST_SHARE, random_state=_SPLIT_SEED
    )
    tests, calibrated = [], []
    for fit_rows, test_rows in splits.split(scores, truth):
        regression = _isotonic(scores[fit_rows], truth[fit_rows])
        tests.append(test_rows)
        calibrated.append(regression.predict(scores[test_rows]))
    pooled = np.concatenate(tests)
    before = expected_calibration_error(scores[pooled], truth[pooled])
    after = expected_calibration_error(np.concatenate(calibrated), truth[pooled])
    return bool(before > after)


def _splittable(truth: np.ndarray) -> bool:
    """Whether every split can hold both classes in both parts (scikit-learn's condition)."""
    test_rows = math.ceil(_TEST_SHARE * len(truth))
    smallest_class = int(np.bincount(truth, minlength=2).min())
    return smallest_class >= 2 and 2 <= test_rows <= len(truth) - 2


def fit_calibration(probabilities: np.ndarray, positive: np.ndarray) -> IsotonicCalibration | None:
    """The isotonic calibration of the holdout, or None when it does not need one."""
    if not needs_calibration(probabilities, positive):
        return None
    return IsotonicCalibration.fit(probabilities, positive)


def expected_calibration_error(
    probabilities: np.ndarray, positive: np.ndarray, bins: int = _ECE_BINS
) -> float:
    """Sum over equal-count bins (by rank of p) of |mean p - positive share| x bin share.

    The bins are NannyML's: width len // bins, the last one taking the remainder as its
    own bins would (so 25 rows in 10 bins make 12 bins of 2, the last of 3).
    """
    rows = len(probabilities)
    if rows <= 2 * bins:
        bins = rows // 2
        if bins < 2:
            raise MonitoringError(f"{rows} rows are too few for a calibration error (4 at least)")
    order = np.argsort(probabilities)  # the default sort, as NannyML's (ties as it orders them)
    scores, truth = probabilities[order], positive[order].astype(np.float64)
    edges = np.arange(0, rows + 1, rows // bins)
    edges[-1] = rows
    error = 0.0
    for left, right in itertools.pairwise(edges):
        weight = (right - left) / rows
        error += weight * abs(scores[left:right].mean() - truth[left:right].mean())
    return error


def _isotonic(scores: np.ndarray, truth: np.ndarray) -> Any:  # sklearn is untyped
    from sklearn.isotonic import IsotonicRegression

    return IsotonicRegression(out_of_bounds="clip", increasing=True).fit(scores, truth)


def _checked(probabilities: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(probabilities, dtype=np.float64)
    truth = np.asarray(positive).astype(np.int8)
    if scores.shape != truth.shape or scores.ndim != 1:
        raise MonitoringError("calibration needs one probability and one label per row")
    if not np.all(np.isfinite(scores)) or scores.min() < 0 or scores.max() > 1:
        raise MonitoringError("calibration needs finite probabilities between 0 and 1")
    return scores, truth
