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


def _fitted(seed: int, rows: int) -> IsotonicCalibration:
    signal, truth = _labels(np.random.default_rng(seed), rows)
    return IsotonicCalibration.fit(_sigmoid(2 * signal), truth)


@pytest.mark.parametrize(("seed", "rows"), [(2, 200), (3, 5_000), (4, 100_000)])
def test_the_calibration_is_np_interp_to_the_bit(seed: int, rows: int) -> None:
    calibration = _fitted(seed, rows)
    x, y = np.array(calibration.x), np.array(calibration.y)
    rng = np.random.default_rng(seed)
    middles = (x[1:] + x[:-1]) / 2
    values = np.concatenate(
        [
            rng.random(20_000),
            rng.random(1_000) * 1.4 - 0.2,  # beyond both ends
            x,  # the knots exactly, and their neighbours
            np.nextafter(x, 0),
            np.nextafter(x, 1),
            middles,
            [0.0, 1.0, -0.0, x[0], x[-1], 1e300, -1e300, 5e-324],
            np.repeat(rng.random(50), 20),  # ties
        ]
    )
    rng.shuffle(values)

    calibrated, segments = calibration.apply_segments(values)

    assert np.array_equal(calibrated, np.interp(values, x, y))
    assert np.array_equal(segments, np.searchsorted(x, values, side="right"))
    assert np.array_equal(calibration.apply(values[:7]), np.interp(values[:7], x, y))
    assert np.array_equal(calibration.apply_segments(values[:7])[1], segments[:7])


def test_values_not_finite_are_np_interps_too() -> None:
    calibration = _fitted(5, 2_000)
    x, y = np.array(calibration.x), np.array(calibration.y)
    values = np.array([0.3, np.nan, np.inf, -np.inf, 0.7])

    assert np.array_equal(calibration.apply(values), np.interp(values, x, y), equal_nan=True)


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([0.5], [0.3]),  # one knot
        ([0.1, 0.1, 0.4], [0.0, 0.2, 0.9]),  # a repeated knot
        ([0.0, 1e-320, 1.0], [0.0, 1.0, 1.0]),  # a slope beyond float range
        ([0.0, 1e-320], [0.25, 0.25]),  # a range too narrow for a grid
        ([0.2, 0.25, 0.9], [0.1, 0.1, 0.8]),  # few knots, a flat part
    ],
)
def test_unusual_knots_are_np_interps_too(x: list[float], y: list[float]) -> None:
    calibration = IsotonicCalibration(x=x, y=y)
    values = np.r_[np.random.default_rng(6).random(2_000), x, 0.0, 1.0]

    with np.errstate(all="ignore"):
        expected = np.interp(values, x, y)
    assert np.array_equal(calibration.apply(values), expected)


def test_flat_segments_hold_their_knots_value() -> None:
    calibration = _fitted(7, 20_000)
    values = np.random.default_rng(7).random(50_000)

    calibrated, segments = calibration.apply_segments(values)
    flat = calibration.constant_segments()[segments]

    assert 0.9 < flat.mean() < 1  # isotonic regression is flat but between its pairs of knots
    assert np.array_equal(calibrated[flat], calibration.segment_values()[segments][flat])
    assert not np.any(calibrated[~flat] == calibration.segment_values()[segments][~flat])
