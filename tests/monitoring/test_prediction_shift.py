"""The k-sigma prediction-shift rule: its definition, its false-alarm rate and its power."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from shipml.monitoring import (
    CategoricalColumnSpec,
    MonitoringError,
    NumericColumnSpec,
    PredictionReference,
    ProfileSpec,
    ShiftResult,
    evaluate_shift,
    prediction_shift,
    profile,
)

WINDOWS = 200
WINDOW_ROWS = 500


def _reference(values: np.ndarray | list[float], **options: object) -> PredictionReference:
    return PredictionReference.from_predictions(pd.Series(values, name="score"), **options)


def test_baseline_std_is_the_population_std_of_chunk_means() -> None:
    reference = _reference(np.arange(13.0))  # the 13th value makes an incomplete chunk

    result = evaluate_shift(reference, statistic=12.5, rows=2)

    chunk_means = np.array([0.5, 2.5, 4.5, 6.5, 8.5, 10.5])
    assert result.method == "chunks"
    assert (result.chunk_size, result.n_chunks) == (2, 6)
    assert result.baseline_mean == pytest.approx(chunk_means.mean())
    assert result.baseline_std == pytest.approx(chunk_means.std(ddof=0))
    assert result.z == pytest.approx((12.5 - 5.5) / chunk_means.std(ddof=0))
    assert result.shifted  # z = 2.05 > 2


def test_k_sets_the_width_of_the_band() -> None:
    reference = _reference(np.arange(12.0))

    assert not evaluate_shift(reference, statistic=12.5, rows=2, k=3.0).shifted
    assert evaluate_shift(reference, statistic=-2.0, rows=2, k=2.0).shifted


def test_too_few_chunks_fall_back_to_the_clt_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    values = np.random.default_rng(0).normal(10, 2, 1000)
    reference = _reference(values)

    with caplog.at_level(logging.WARNING, logger="shipml.monitoring.shift"):
        result = evaluate_shift(reference, statistic=10.1, rows=200)  # 5 chunks

    assert result.method == "clt"
    assert result.n_chunks == 5
    assert result.baseline_mean == pytest.approx(values.mean(), rel=1e-6)
    assert result.baseline_std == pytest.approx(values.std() / np.sqrt(200), rel=1e-6)
    assert "using sigma/sqrt(n)" in caplog.text


def test_a_constant_model_has_no_z_and_shifts_on_any_change() -> None:
    reference = _reference([0.5] * 60)

    same = evaluate_shift(reference, statistic=0.5, rows=10)
    moved = evaluate_shift(reference, statistic=0.51, rows=10)

    assert (same.z, same.shifted) == (None, False)
    assert (moved.z, moved.shifted) == (None, True)


def test_positive_rate_is_read_from_the_label_counts_of_a_window() -> None:
    labels = pd.Series(["fail", "ok", "ok", "ok"] * 50, name="label")
    reference = PredictionReference.from_predictions(
        labels, statistic="positive_rate", positive_label="fail"
    )
    spec = ProfileSpec(columns={"label": CategoricalColumnSpec(categories=["ok", "fail"])})
    window = profile(pd.DataFrame({"label": ["fail"] * 6 + ["ok"] * 4}), spec)

    result = prediction_shift(reference, window)

    assert result.measure == "positive_rate"
    assert result.statistic == pytest.approx(0.6)
    assert result.baseline_mean == pytest.approx(0.25)
    assert result.shifted


def test_mean_is_read_from_the_moments_of_a_window() -> None:
    reference = _reference(np.random.default_rng(1).beta(2, 5, 5000))
    spec = ProfileSpec(columns={"score": NumericColumnSpec(edges=[0.0, 0.5, 1.0])})
    window = profile(pd.DataFrame({"score": [0.2, 0.3, np.nan, 0.4]}), spec)

    result = prediction_shift(reference, window)

    assert result.statistic == pytest.approx(0.3)
    assert result.chunk_size == 3  # non-null predictions only


def test_long_holdouts_are_thinned_evenly() -> None:
    reference = _reference(np.arange(1000.0), max_values=101)

    values = reference.per_row_values()

    assert reference.rows == 1000
    assert len(values) == 101
    assert values[0] == 0.0 and values[-1] == 999.0
    assert set(np.diff(values)) == {9.0, 10.0}  # 999 / 100 steps, rounded to rows


def test_stored_values_keep_their_precision_far_from_zero() -> None:
    values = 1e6 + np.random.default_rng(2).normal(0, 0.01, 6000)  # float32 alone: 0.06 steps
    reference = _reference(values)

    stored = PredictionReference.model_validate_json(reference.model_dump_json())

    chunks = values.reshape(-1, 100).mean(axis=1)
    assert stored.chunk_statistics(100).std() == pytest.approx(chunks.std(), rel=1e-3)


def test_shift_result_round_trips_through_json() -> None:
    result = evaluate_shift(_reference([0.5] * 60), statistic=0.7, rows=10)

    assert ShiftResult.model_validate_json(result.model_dump_json()) == result


@pytest.mark.parametrize(
    ("predictions", "options", "message"),
    [
        (pd.Series([0.1, None], name="p"), {}, "contain 1 nulls"),
        (pd.Series(["a", "b"], name="p"), {}, "needs numeric predictions"),
        (pd.Series(["a", "b"], name="p"), {"statistic": "positive_rate"}, "needs a positive_label"),
        (pd.Series([], name="p", dtype=float), {}, "are empty"),
        (pd.Series([0.1, 0.2]), {}, "need a name"),
    ],
)
def test_unusable_holdout_predictions_are_refused(
    predictions: pd.Series, options: dict, message: str
) -> None:
    with pytest.raises(MonitoringError, match=message):
        PredictionReference.from_predictions(predictions, **options)


def test_a_window_without_the_prediction_column_is_refused() -> None:
    spec = ProfileSpec(columns={"other": NumericColumnSpec(edges=[0.0, 1.0])})
    window = profile(pd.DataFrame({"other": [0.5]}), spec)

    with pytest.raises(MonitoringError, match="no prediction column 'score'"):
        prediction_shift(_reference([0.1, 0.2]), window)


# --- the rule's statistical behaviour ------------------------------------------------------


def _alarm_count(reference: PredictionReference, windows: list[np.ndarray]) -> int:
    spec = ProfileSpec(columns={"score": NumericColumnSpec(edges=[0.0, 1.0])})
    return sum(
        prediction_shift(reference, profile(pd.DataFrame({"score": w}), spec)).shifted
        for w in windows
    )


def _plausible_counts(probability: float) -> tuple[float, float]:
    """The central 99.9% of the number of alarms in WINDOWS independent windows."""
    return stats.binom.interval(0.999, WINDOWS, probability)


def test_false_alarm_rate_of_the_two_sigma_rule_is_near_its_theoretical_value() -> None:
    rng = np.random.default_rng(30)
    holdout = rng.beta(2, 5, 200_000)  # predicted probabilities of a classifier
    reference = _reference(holdout, max_values=200_000)
    windows = [rng.beta(2, 5, WINDOW_ROWS) for _ in range(WINDOWS)]

    alarms = _alarm_count(reference, windows)

    low, high = _plausible_counts(2 * stats.norm.sf(2.0))  # 4.55%
    assert low <= alarms <= high, alarms


def test_a_shift_of_three_chunk_sigmas_is_caught_at_the_expected_rate() -> None:
    rng = np.random.default_rng(31)
    reference = _reference(rng.normal(10, 2, 200_000), max_values=200_000)
    sigma_of_chunks = reference.chunk_statistics(WINDOW_ROWS).std()
    windows = [rng.normal(10 + 3 * sigma_of_chunks, 2, WINDOW_ROWS) for _ in range(WINDOWS)]

    alarms = _alarm_count(reference, windows)

    low, high = _plausible_counts(stats.norm.cdf(1.0) + stats.norm.cdf(-5.0))  # 84%
    assert low <= alarms <= high, alarms
