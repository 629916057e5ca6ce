"""Comparing a challenger's predictions with the champion's: agreement, distributions, merges."""

from __future__ import annotations

import numpy as np

from shipml.monitoring import (
    NumericColumnSpec,
    ProfileSpec,
    ShadowProfile,
    compare_predictions,
    shadow_profile,
)


def test_classes_agree_when_equal_and_numbers_within_the_tolerance() -> None:
    assert compare_predictions(["a", "b", None], ["a", "c", None]).tolist() == [True, False, True]
    close = compare_predictions([0.10, 0.50, 3.0], [0.12, 0.80, 3.0], tolerance=0.05)
    assert close.tolist() == [True, False, True]
    assert compare_predictions([True, False], [True, True]).tolist() == [True, False]


def test_binary_probabilities_agree_when_both_models_take_the_same_decision() -> None:
    agreed = compare_predictions([0.30, 0.70, 0.55], [0.45, 0.20, 0.62], thresholds=(0.5, 0.4))
    assert agreed.tolist() == [False, False, True]


def test_a_shadow_profile_holds_both_distributions_on_the_same_bins_and_merges() -> None:
    spec = ProfileSpec(columns={"p": NumericColumnSpec(edges=[0.0, 0.5, 1.0])})
    champion, challenger = [0.1, 0.2, 0.9], [0.1, 0.7, 0.9]
    agreed = compare_predictions(champion, challenger)
    first = shadow_profile(
        "toy",
        "2",
        column="p",
        champion=champion,
        challenger=challenger,
        agreed=agreed,
        spec=spec,
        seconds_by_step={"total": [0.004]},
    )
    drops = ShadowProfile(challenger_name="toy", challenger_version="2", dropped=5)
    merged = first.merge(drops).merge(first)

    assert (merged.records, merged.agreed, merged.dropped) == (6, 4, 5)
    assert merged.agreement_rate == 4 / 6
    assert merged.champion is not None and merged.challenger is not None
    assert merged.champion.columns["p"].counts == [0, 4, 2, 0]
    assert merged.challenger.columns["p"].counts == [0, 2, 4, 0]
    assert merged.latency.steps["total"].count == 2
    assert ShadowProfile.model_validate_json(merged.model_dump_json()) == merged
    assert np.isclose(first.agreement_rate or 0, 2 / 3)
