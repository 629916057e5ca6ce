"""The distances on binned counts, checked against their definitions and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from shipml.monitoring.metrics import (
    PSI_EPSILON,
    binned_ks,
    chi_square,
    jensen_shannon_distance,
    population_stability_index,
)


def test_psi_of_identical_proportions_is_zero() -> None:
    assert population_stability_index(np.array([10, 20, 30]), np.array([1, 2, 3])) == 0.0


def test_psi_follows_its_definition() -> None:
    reference, current = np.array([50, 50]), np.array([20, 80])

    expected = (0.2 - 0.5) * math.log(0.2 / 0.5) + (0.8 - 0.5) * math.log(0.8 / 0.5)

    assert population_stability_index(reference, current) == pytest.approx(expected)


def test_psi_floors_empty_bins_instead_of_dividing_by_zero() -> None:
    reference, current = np.array([0, 100]), np.array([10, 90])

    expected = (0.1 - PSI_EPSILON) * math.log(0.1 / PSI_EPSILON) + (0.9 - 1.0) * math.log(0.9)

    assert population_stability_index(reference, current) == pytest.approx(expected)


def test_binned_ks_equals_scipy_when_every_value_has_its_own_bin() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 8, 400), rng.integers(1, 9, 300)
    reference, current = np.bincount(x, minlength=9), np.bincount(y, minlength=9)

    outcome = binned_ks(reference, current)
    expected = stats.ks_2samp(x, y, method="asymp")

    assert outcome.statistic == pytest.approx(expected.statistic)
    assert outcome.p_value == pytest.approx(expected.pvalue)


def test_binned_ks_is_a_lower_bound_of_the_raw_statistic() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(0, 1, 2000), rng.normal(0.3, 1, 2000)
    edges = np.quantile(x, np.linspace(0, 1, 11))
    reference = np.histogram(x, np.concatenate([[-np.inf], edges, [np.inf]]))[0]
    current = np.histogram(y, np.concatenate([[-np.inf], edges, [np.inf]]))[0]

    binned = binned_ks(reference, current).statistic
    raw = stats.ks_2samp(x, y).statistic

    assert binned <= raw
    assert binned > 0.8 * raw  # ten bins already come close


def test_jensen_shannon_distance_is_zero_for_equal_and_one_for_disjoint() -> None:
    assert jensen_shannon_distance(np.array([1, 2, 3]), np.array([2, 4, 6])) == pytest.approx(0)
    assert jensen_shannon_distance(np.array([5, 0]), np.array([0, 5])) == pytest.approx(1)


def test_chi_square_p_value_is_scipy_homogeneity_test() -> None:
    reference, current = np.array([300, 500, 200, 0]), np.array([40, 40, 20, 0])

    outcome = chi_square(reference, current)
    expected = stats.chi2_contingency(np.array([[300, 500, 200], [40, 40, 20]]), correction=False)

    assert outcome.p_value == pytest.approx(expected.pvalue)


def test_cramers_v_does_not_shrink_as_the_reference_grows() -> None:
    current = np.array([40, 60])

    small = chi_square(np.array([50, 50]), current).statistic
    large = chi_square(np.array([50_000, 50_000]), current).statistic

    assert small == pytest.approx(large)
    # equal to Cramér's V of the table with both rows of the same size
    table = np.array([[50, 50], [40, 60]])
    plain_v = stats.contingency.association(table, method="cramer", correction=False)
    assert small == pytest.approx(plain_v)


def test_cramers_v_is_one_for_disjoint_categories() -> None:
    assert chi_square(np.array([10, 0]), np.array([0, 7])).statistic == pytest.approx(1.0)
