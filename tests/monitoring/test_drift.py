"""Drift between a reference profile and windows: defaults, overrides, false-alarm rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipml.monitoring import (
    ColumnDriftRule,
    DriftConfig,
    MonitoringError,
    Profile,
    ProfileSpec,
    detect_drift,
    profile,
)

REFERENCE_ROWS = 100_000
WINDOWS = 200


def _readings(rng: np.random.Generator, rows: int, shift: float = 0.0) -> pd.DataFrame:
    """Machine readings: a normal and a skewed numeric column (5% nulls), a categorical."""
    levels = [f"m{i}" for i in range(10)]
    weights = np.arange(1, 11) / 55
    vibration = rng.gamma(2.0, 1.0, rows)
    vibration[rng.random(rows) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "temperature": rng.normal(60 + shift * 5, 5, rows),
            "vibration": vibration,
            "machine": pd.Series(rng.choice(levels, rows, p=weights), dtype="str"),
        }
    )


@pytest.fixture(scope="module")
def reference() -> Profile:
    rng = np.random.default_rng(10)
    baseline = _readings(rng, REFERENCE_ROWS)
    return profile(baseline, ProfileSpec.from_baseline(baseline))


def _by_check(results: list) -> dict[tuple[str, str], object]:
    return {(result.column, result.method): result for result in results}


def test_default_methods_are_psi_for_numbers_and_jensen_shannon_for_categories(
    reference: Profile,
) -> None:
    window = profile(_readings(np.random.default_rng(11), 900), reference.spec)

    checks = _by_check(detect_drift(reference, window))

    assert set(checks) == {
        ("temperature", "psi"),
        ("temperature", "null_rate"),
        ("vibration", "psi"),
        ("vibration", "null_rate"),
        ("machine", "jensen_shannon"),
        ("machine", "null_rate"),
    }
    assert not any(result.drifted for result in checks.values())
    assert checks[("temperature", "psi")].threshold == 0.2


def test_a_mean_shift_of_one_standard_deviation_is_drift_for_every_numeric_method(
    reference: Profile,
) -> None:
    window = profile(_readings(np.random.default_rng(12), 900, shift=1.0), reference.spec)

    for method in ("psi", "ks", "jensen_shannon", "chi_square"):
        checks = _by_check(detect_drift(reference, window, DriftConfig(numeric_method=method)))
        assert checks[("temperature", method)].drifted, method
        assert not checks[("vibration", method)].drifted, method


def test_p_values_are_reported_for_the_tests_only(reference: Profile) -> None:
    window = profile(_readings(np.random.default_rng(13), 900, shift=1.0), reference.spec)
    config = DriftConfig(
        columns={
            "temperature": ColumnDriftRule(method="ks"),
            "machine": ColumnDriftRule(method="chi_square"),
        }
    )

    checks = _by_check(detect_drift(reference, window, config))

    assert checks[("temperature", "ks")].p_value < 1e-6
    assert 0.0 <= checks[("machine", "chi_square")].p_value <= 1.0
    assert checks[("vibration", "psi")].p_value is None


def test_a_new_category_is_drift(reference: Profile) -> None:
    rng = np.random.default_rng(14)
    readings = _readings(rng, 900)
    readings.loc[:299, "machine"] = "m99"  # a machine never seen in training
    window = profile(readings, reference.spec)

    checks = _by_check(detect_drift(reference, window))

    assert checks[("machine", "jensen_shannon")].drifted


def test_null_rate_change_is_checked_on_every_column(reference: Profile) -> None:
    readings = _readings(np.random.default_rng(15), 900)
    readings.loc[:89, "temperature"] = np.nan  # 10% nulls, none in the reference
    window = profile(readings, reference.spec)

    checks = _by_check(detect_drift(reference, window))

    assert checks[("temperature", "null_rate")].value == pytest.approx(0.1)
    assert checks[("temperature", "null_rate")].drifted
    assert not checks[("vibration", "null_rate")].drifted  # 5% nulls in both


def test_a_column_with_no_values_reports_no_distance_but_its_null_rate(reference: Profile) -> None:
    readings = _readings(np.random.default_rng(16), 100)
    readings["temperature"] = np.nan
    window = profile(readings, reference.spec)

    checks = _by_check(detect_drift(reference, window))

    assert checks[("temperature", "psi")].value is None
    assert not checks[("temperature", "psi")].drifted
    assert "null-rate" in checks[("temperature", "psi")].note
    assert checks[("temperature", "null_rate")].drifted


def test_thresholds_and_methods_can_be_set_per_column(reference: Profile) -> None:
    window = profile(_readings(np.random.default_rng(17), 900), reference.spec)
    config = DriftConfig(
        thresholds={"psi": 0.5},
        columns={"vibration": ColumnDriftRule(method="ks", threshold=0.0, null_rate_threshold=0.2)},
    )

    checks = _by_check(detect_drift(reference, window, config))

    assert checks[("temperature", "psi")].threshold == 0.5
    assert checks[("vibration", "ks")].threshold == 0.0
    assert checks[("vibration", "ks")].drifted  # any gap exceeds a zero threshold
    assert checks[("vibration", "null_rate")].threshold == 0.2
    assert checks[("machine", "null_rate")].threshold == 0.05


def test_ks_on_a_categorical_column_is_refused(reference: Profile) -> None:
    window = profile(_readings(np.random.default_rng(18), 100), reference.spec)
    config = DriftConfig(columns={"machine": ColumnDriftRule(method="ks")})

    with pytest.raises(MonitoringError, match="'machine' is categorical"):
        detect_drift(reference, window, config)


def test_rules_for_unknown_columns_are_refused(reference: Profile) -> None:
    config = DriftConfig(columns={"temprature": ColumnDriftRule(threshold=0.1)})

    with pytest.raises(MonitoringError, match="temprature"):
        detect_drift(reference, reference, config)


def test_profiles_on_other_bins_are_refused(reference: Profile) -> None:
    readings = _readings(np.random.default_rng(19), 500)
    other = profile(readings, ProfileSpec.from_baseline(readings))

    with pytest.raises(MonitoringError, match="different bins"):
        detect_drift(reference, other)


def test_results_round_trip_through_json(reference: Profile) -> None:
    window = profile(_readings(np.random.default_rng(20), 900, shift=1.0), reference.spec)

    for result in detect_drift(reference, window, DriftConfig(numeric_method="ks")):
        assert type(result).model_validate_json(result.model_dump_json()) == result


# --- false alarms on windows drawn from the reference distribution ------------------------


def _windows(reference: Profile, rows: int, seed: int) -> list[Profile]:
    rng = np.random.default_rng(seed)
    return [profile(_readings(rng, rows), reference.spec) for _ in range(WINDOWS)]


@pytest.fixture(scope="module")
def windows_of_900_rows(reference: Profile) -> list[Profile]:
    return _windows(reference, 900, seed=21)


def _false_alarm_rates(
    reference: Profile, windows: list[Profile], config: DriftConfig
) -> dict[tuple[str, str], float]:
    alarms: dict[tuple[str, str], int] = {}
    for window in windows:
        for result in detect_drift(reference, window, config):
            key = (result.column, result.method)
            alarms[key] = alarms.get(key, 0) + int(result.drifted)
    return {key: count / len(windows) for key, count in alarms.items()}


@pytest.mark.parametrize(
    "config",
    [
        DriftConfig(),
        DriftConfig(numeric_method="ks", categorical_method="chi_square"),
        DriftConfig(categorical_method="psi"),
    ],
    ids=["defaults", "ks-and-chi-square", "psi-on-categories"],
)
def test_documented_false_alarm_rate_on_900_row_windows(
    reference: Profile, windows_of_900_rows: list[Profile], config: DriftConfig
) -> None:
    rates = _false_alarm_rates(reference, windows_of_900_rows, config)

    assert max(rates.values()) <= 0.01, rates


def test_documented_false_alarm_rate_of_histogram_distances_on_2000_row_windows(
    reference: Profile,
) -> None:
    windows = _windows(reference, 2000, seed=22)
    for method in ("jensen_shannon", "chi_square"):
        rates = _false_alarm_rates(reference, windows, DriftConfig(numeric_method=method))
        assert rates[("temperature", method)] <= 0.01, rates
        assert rates[("vibration", method)] <= 0.01, rates


def test_a_window_with_too_few_values_is_not_judged(reference: Profile) -> None:
    shifted = _readings(np.random.default_rng(14), 40, shift=3.0)
    window = profile(shifted, reference.spec)

    checks = _by_check(detect_drift(reference, window))
    assert checks[("temperature", "psi")].value is None
    assert "too few to judge" in checks[("temperature", "psi")].note
    assert not any(result.drifted for result in checks.values())

    judged = _by_check(detect_drift(reference, window, DriftConfig(drift_min_rows=20)))
    assert judged[("temperature", "psi")].drifted
