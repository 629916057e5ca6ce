"""Latency histograms: Prometheus-style quantiles, exact merges, exact percentiles from samples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shipml.monitoring import (
    DEFAULT_BOUNDS,
    END_TO_END,
    LatencyHistogram,
    LatencyProfile,
    MonitoringError,
    summarize_samples,
)

BOUNDS = [0.1, 0.2, 0.4]


def test_quantiles_interpolate_within_the_bucket_like_prometheus() -> None:
    samples = [0.05, 0.05] + [0.15] * 4 + [0.3, 0.3, 0.3, 0.39]
    histogram = LatencyHistogram.from_samples(samples, BOUNDS)

    assert histogram.counts == [2, 4, 4, 0]
    # p50: rank 5 lies 3/4 into the (0.1, 0.2] bucket
    assert histogram.quantile(0.5) == pytest.approx(0.175)
    # p95: rank 9.5 lies 3.5/4 into the (0.2, 0.4] bucket
    assert histogram.quantile(0.95) == pytest.approx(0.375)
    # p99 would interpolate to 0.395, above the largest sample: clamped to the max
    assert histogram.quantile(0.99) == pytest.approx(0.39)
    assert histogram.quantile(0.0) == 0.05


def test_quantiles_beyond_the_last_bound_give_the_observed_max() -> None:
    histogram = LatencyHistogram.from_samples([0.05, 7.0, 9.0], BOUNDS)

    assert histogram.counts == [1, 0, 0, 2]
    assert histogram.quantile(0.99) == 9.0


def test_default_buckets_span_a_tenth_of_a_millisecond_to_a_minute() -> None:
    assert DEFAULT_BOUNDS[0] == pytest.approx(1e-4)
    assert DEFAULT_BOUNDS[-1] >= 60.0
    assert np.allclose(np.diff(np.log2(DEFAULT_BOUNDS)), 0.25)


def test_histogram_percentiles_are_within_a_bucket_of_the_exact_ones() -> None:
    samples = np.random.default_rng(40).lognormal(np.log(0.02), 0.6, 20_000)

    approximate = LatencyHistogram.from_samples(samples).summary()
    exact = summarize_samples(samples)

    bucket_ratio = 2**0.25
    for name in ("p50", "p95", "p99"):
        ratio = getattr(approximate, name) / getattr(exact, name)
        assert 1 / bucket_ratio < ratio < bucket_ratio, name
    assert approximate.max == exact.max
    assert (approximate.exact, exact.exact) == (False, True)


def test_exact_percentiles_are_numpy_quantiles() -> None:
    samples = np.random.default_rng(41).exponential(0.01, 999)

    summary = summarize_samples(samples)

    assert summary.count == 999
    assert summary.p99 == pytest.approx(np.quantile(samples, 0.99))
    assert summary.p50 == pytest.approx(np.median(samples))


def test_no_observations_means_no_percentiles() -> None:
    assert LatencyHistogram().summary().p99 is None
    assert summarize_samples([]).p50 is None


def test_profiles_merge_per_step_and_keep_steps_seen_on_one_side() -> None:
    first = LatencyProfile.from_samples({"predict": [0.01, 0.02], END_TO_END: [0.05, 0.06]})
    second = LatencyProfile.from_samples({"predict": [0.03], "featurize": [0.001]})

    merged = first.merge(second)

    assert set(merged.steps) == {"predict", END_TO_END, "featurize"}
    assert merged.steps["predict"].count == 3
    assert merged.steps["predict"].max == 0.03
    assert merged.summaries()[END_TO_END].count == 2


@pytest.mark.parametrize(
    "samples", [[-0.1], [float("nan")], [float("inf")], [[0.1, 0.2]], 0.1], ids=str
)
def test_unusable_samples_are_refused(samples: object) -> None:
    with pytest.raises(MonitoringError, match="latency samples"):
        LatencyHistogram.from_samples(samples)


def test_histograms_on_other_bounds_do_not_merge() -> None:
    with pytest.raises(MonitoringError, match="different bucket bounds"):
        LatencyHistogram.from_samples([0.1], BOUNDS).merge(LatencyHistogram.from_samples([0.1]))


def test_quantile_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(MonitoringError, match="within \\[0, 1\\]"):
        LatencyHistogram.from_samples([0.1]).quantile(99)


_samples = st.lists(st.floats(0, 100, allow_nan=False), max_size=50)


@settings(max_examples=60, deadline=None)
@given(_samples, _samples)
def test_histogram_of_concatenation_equals_merge_of_histograms(left: list, right: list) -> None:
    whole = LatencyHistogram.from_samples(left + right)
    merged = LatencyHistogram.from_samples(left).merge(LatencyHistogram.from_samples(right))

    assert merged.counts == whole.counts
    assert (merged.min, merged.max) == (whole.min, whole.max)
    assert merged.total_seconds == pytest.approx(whole.total_seconds)


@settings(max_examples=40, deadline=None)
@given(_samples)
def test_latency_profile_round_trips_through_json_exactly(samples: list) -> None:
    original = LatencyProfile.from_samples({"predict": samples, END_TO_END: samples})

    assert LatencyProfile.model_validate_json(original.model_dump_json()) == original
