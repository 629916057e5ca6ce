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
"""

from __future__ import annotations

import itertools
import math
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
        knots, values = self._arrays
        calibrated: np.ndarray = np.interp(probabilities, knots, values)
        return calibrated

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.x, dtype=np.float64), np.asarray(self.y, dtype=np.float64)


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
