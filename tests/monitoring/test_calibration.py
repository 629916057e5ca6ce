"""Isotonic calibration for CBPE: NannyML's test of whether it is needed, and the stored map."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from shipml.monitoring import (
    IsotonicCalibration,
    MonitoringError,
    expected_calibration_error,
    fit_calibration,
    needs_calibration,
)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1 / (1 + np.exp(-x))
    return result


def _labels(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray]:
    signal = rng.normal(0, 1.5, rows)
    return signal, rng.random(rows) < _sigmoid(signal)


def test_an_overconfident_model_needs_calibration() -> None:
    signal, truth = _labels(np.random.default_rng(0), 20_000)

    assert needs_calibration(_sigmoid(3 * signal), truth)


def test_a_near_perfect_ranking_needs_none() -> None:
    truth = np.r_[np.zeros(500, bool), np.ones(500, bool)]
    scores = np.r_[np.linspace(0, 0.4, 500), np.linspace(0.6, 1, 500)]

    assert not needs_calibration(scores, truth)
    assert fit_calibration(scores, truth) is None


def test_a_holdout_too_small_to_split_is_left_uncalibrated() -> None:
    scores = np.array([0.2, 0.8, 0.4, 0.6, 0.3, 0.7, 0.5, 0.1, 0.9, 0.35])
    truth = np.array([1, 0, 0, 1, 1, 0, 0, 1, 0, 1])  # a 10% part is one row

    assert not needs_calibration(scores, truth)
    assert not needs_calibration(scores[:3], np.array([1, 0, 0]))  # one positive


def test_the_stored_map_is_scikit_learns_isotonic_regression() -> None:
    rng = np.random.default_rng(1)
    signal, truth = _labels(rng, 5_000)
    raw = _sigmoid(2 * signal)
    fresh = rng.random(1_000) * 1.2 - 0.1  # beyond both ends too: clipped

    calibration = IsotonicCalibration.fit(raw, truth)
    regression = IsotonicRegression(out_of_bounds="clip").fit(raw, truth)

    stored = IsotonicCalibration.model_validate_json(calibration.model_dump_json())
    np.testing.assert_allclose(stored.apply(fresh), regression.predict(fresh), atol=1e-12)


def test_expected_calibration_error_uses_bins_of_equal_counts() -> None:
    probabilities = np.array([0.1, 0.2, 0.8, 0.9])
    truth = np.array([0, 1, 1, 1])

    # Two bins of two rows: |0.15 - 0.5| / 2 + |0.85 - 1| / 2
    assert expected_calibration_error(probabilities, truth) == pytest.approx(0.25)


def test_probabilities_outside_zero_and_one_are_refused() -> None:
    with pytest.raises(MonitoringError, match="between 0 and 1"):
        needs_calibration(np.array([0.2, 1.5, 0.3, 0.1]), np.array([0, 1, 0, 1]))
