"""A window profiled in parts merges into the whole window's profile, means bit for bit."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

from shipml.monitoring import EstimationReference, MonitoringBaseline, NumericColumnProfile
from shipml.project.engines._profiles import exact_sum, merge_profile_parts, profile_part
from shipml.project.observe import FEATURES, PREDICTIONS


def kept_frames() -> dict[str, pd.DataFrame]:
    """Breast-cancer features (a null here and there) and a made-up predicted probability."""
    data = load_breast_cancer(as_frame=True)
    features = data.data.iloc[:, :6].copy()
    features.loc[[3, 300], "mean radius"] = None
    features["diagnosis"] = np.where(data.target == 1, "benign", "malignant")
    features["large"] = features["mean area"] > 700
    probability = 1 / (1 + np.exp(-(features["mean radius"].fillna(14) - 14)))
    return {FEATURES: features, PREDICTIONS: pd.DataFrame({"probability": probability})}


def baseline(kept: dict[str, pd.DataFrame]) -> MonitoringBaseline:
    return MonitoringBaseline.from_training(kept[FEATURES], kept[PREDICTIONS], "probability")


@pytest.mark.parametrize("cuts", [[100], [1, 2, 3, 400], [284, 285, 568]])
def test_parts_merge_into_the_whole_windows_profile(cuts: list[int]) -> None:
    kept = kept_frames()
    reference = baseline(kept)
    bounds = [0, *cuts, len(kept[FEATURES])]
    parts = [
        profile_part(reference, {name: frame.iloc[a:b] for name, frame in kept.items()})
        for a, b in itertools.pairwise(bounds)
    ]

    whole = merge_profile_parts([profile_part(reference, kept)])
    merged = merge_profile_parts(parts)

    assert merged.columns.keys() == whole.columns.keys()
    for name, column in whole.columns.items():
        other = merged.columns[name]
        if isinstance(column, NumericColumnProfile):
            assert isinstance(other, NumericColumnProfile)
            assert other.moments.m2 == pytest.approx(column.moments.m2, rel=1e-12)
            spread = {"moments": column.moments.model_copy(update={"m2": other.moments.m2})}
            column = column.model_copy(update=spread)
        assert other == column


def test_a_mean_is_the_exact_sum_rounded_once() -> None:
    kept = kept_frames()
    values = np.array([1e16, 1.0, -1e16, 3.0, 0.1])  # a float sum loses the 1.0
    head = {FEATURES: kept[FEATURES].head(5), PREDICTIONS: pd.DataFrame({"probability": values})}

    part = profile_part(baseline(kept), head)
    column = merge_profile_parts([part]).columns["probability"]

    assert part.sums["probability"] == sum(map(Fraction, values.tolist()))
    assert isinstance(column, NumericColumnProfile)
    assert column.moments.mean == 4.1 / 5 != float(np.mean(values))


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(0).normal(70, 10, 10_000),
        np.array([0.0, 1e300, -1e300, 5e-324, 1.0, -0.5]),  # magnitudes 1,000 binades apart
        np.array([]),
    ],
    ids=["normal", "extreme", "empty"],
)
def test_exact_sums_have_no_rounding(values: np.ndarray) -> None:
    assert exact_sum(values) == sum(map(Fraction, values.tolist()), Fraction(0))


def test_the_confidence_summary_of_parts_is_the_whole_windows() -> None:
    kept = kept_frames()
    truth = kept[FEATURES]["diagnosis"] == "malignant"
    performance = EstimationReference.from_holdout(kept[PREDICTIONS], truth, "probability")
    reference = baseline(kept).model_copy(update={"performance": performance})
    parts = [
        profile_part(reference, {name: frame.iloc[a:b] for name, frame in kept.items()})
        for a, b in itertools.pairwise([0, 100, 350, len(kept[FEATURES])])
    ]

    whole = merge_profile_parts([profile_part(reference, kept)]).confidence
    merged = merge_profile_parts(parts).confidence

    assert whole is not None and merged is not None
    assert (merged.rows, merged.counts) == (whole.rows, whole.counts)
    assert merged.predicted_positive == whole.predicted_positive
    assert merged.mass == pytest.approx(whole.mass, rel=1e-12)
