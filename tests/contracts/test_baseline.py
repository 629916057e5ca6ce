"""Baseline: reference statistics of a frame, stored as JSON with a trained model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shipml.contracts import Baseline, ColumnBaseline
from shipml.contracts.baseline import QUANTILE_LEVELS, TOP_CATEGORIES


def _readings(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    temperature = rng.normal(60, 8, rows)
    temperature[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "temperature_c": temperature,
            "cycles": rng.integers(0, 1000, rows),
            "mode": pd.Series(rng.choice(["idle", "run", "maintenance"], rows, p=[0.2, 0.7, 0.1])),
            "alarm": rng.random(rows) < 0.05,
            "ts": pd.date_range("2024-01-01", periods=rows, freq="min"),
        }
    )


def test_numeric_columns_keep_deciles_mean_std_and_null_rate() -> None:
    df = _readings(10_000)
    stats = Baseline.from_frame(df).columns["temperature_c"]
    present = df["temperature_c"].dropna().to_numpy()

    assert stats.kind == "numeric"
    assert stats.rows == 10_000
    assert stats.null_rate == pytest.approx(df["temperature_c"].isna().mean())
    assert stats.quantiles == pytest.approx(np.quantile(present, QUANTILE_LEVELS).tolist())
    assert stats.mean == pytest.approx(present.mean())
    assert stats.std == pytest.approx(present.std())
    assert stats.median == pytest.approx(np.median(present))


def test_categorical_and_boolean_columns_keep_value_shares() -> None:
    df = _readings(10_000)
    baseline = Baseline.from_frame(df)
    mode, alarm = baseline.columns["mode"], baseline.columns["alarm"]

    assert mode.kind == "categorical"
    assert mode.distinct == 3
    assert mode.frequencies == pytest.approx(df["mode"].value_counts(normalize=True).to_dict())
    assert alarm.kind == "boolean"
    assert alarm.frequencies["True"] == pytest.approx(df["alarm"].mean())


def test_only_the_most_common_categories_are_kept() -> None:
    values = pd.Series([f"sku-{i % 80}" for i in range(8000)] + ["sku-0"] * 100)
    stats = ColumnBaseline.from_series(values)

    assert stats.distinct == 80
    assert len(stats.frequencies) == TOP_CATEGORIES
    assert next(iter(stats.frequencies)) == "sku-0"
    assert stats.top_share < 1


def test_datetime_columns_keep_quantiles_in_epoch_seconds() -> None:
    stats = Baseline.from_frame(_readings(1000)).columns["ts"]

    assert stats.kind == "datetime"
    assert stats.quantiles[0] == pd.Timestamp("2024-01-01").timestamp()
    assert stats.quantiles[-1] == pd.Timestamp("2024-01-01 16:39").timestamp()


def test_the_baseline_survives_a_json_round_trip() -> None:
    baseline = Baseline.from_frame(_readings(2000))

    assert Baseline.model_validate_json(baseline.model_dump_json()) == baseline


def test_odd_columns_get_a_null_rate_and_no_distribution() -> None:
    df = pd.DataFrame(
        {
            "nothing": [None, None, None],
            "nan": [np.nan, np.nan, np.nan],
            "mixed": [1, "a", 2.5],
            "complex": [1 + 2j, 3j, 0j],
            "wait": pd.to_timedelta([1, 2, None], unit="s"),
            "infinite": [np.inf, -np.inf, np.nan],
        }
    )
    baseline = Baseline.from_frame(df)

    assert baseline.columns["nothing"].null_rate == 1.0
    assert baseline.columns["nan"].quantiles == []
    assert baseline.columns["mixed"].kind == "other"
    assert baseline.columns["complex"].kind == "other"
    assert baseline.columns["wait"].null_rate == pytest.approx(1 / 3)
    assert baseline.columns["infinite"].mean is None
    assert Baseline.model_validate_json(baseline.model_dump_json()) == baseline


def test_an_empty_frame_has_a_baseline_of_empty_columns() -> None:
    baseline = Baseline.from_frame(pd.DataFrame({"x": pd.Series([], dtype=float)}))

    assert baseline.rows == 0
    assert baseline.columns["x"].null_rate == 0.0
    assert baseline.columns["x"].quantiles == []


def test_duplicate_column_names_are_refused_with_a_clear_error() -> None:
    df = pd.DataFrame([[1, 2]], columns=["a", "a"])

    with pytest.raises(ValueError, match="column 'a' appears more than once"):
        Baseline.from_frame(df)


def test_distance_is_small_for_the_same_distribution_and_large_for_another() -> None:
    rng = np.random.default_rng(1)
    reference = ColumnBaseline.from_series(pd.Series(rng.normal(60, 8, 50_000)))
    same = ColumnBaseline.from_series(pd.Series(rng.normal(60, 8, 50_000)))
    fahrenheit = ColumnBaseline.from_series(pd.Series(rng.normal(60, 8, 50_000) * 1.8 + 32))

    assert reference.distance(same) < 0.05
    assert reference.distance(fahrenheit) > 1


def test_category_distance_is_the_total_variation_distance() -> None:
    reference = ColumnBaseline.from_series(pd.Series(["run"] * 70 + ["idle"] * 30))
    shifted = ColumnBaseline.from_series(pd.Series(["run"] * 40 + ["idle"] * 60))

    assert reference.distance(shifted) == pytest.approx(0.3)


def test_columns_of_different_kinds_or_datetimes_are_not_compared() -> None:
    numbers = ColumnBaseline.from_series(pd.Series([1.0, 2.0, 3.0]))
    words = ColumnBaseline.from_series(pd.Series(["a", "b", "c"]))
    times = ColumnBaseline.from_series(pd.Series(pd.date_range("2024-01-01", periods=3)))

    assert numbers.distance(words) is None
    assert times.distance(times) is None


def test_constant_and_identifier_columns_are_not_distinctive() -> None:
    rng = np.random.default_rng(2)

    assert ColumnBaseline.from_series(pd.Series(rng.normal(0, 1, 1000))).is_distinctive()
    assert not ColumnBaseline.from_series(pd.Series([5.0] * 1000)).is_distinctive()
    assert not ColumnBaseline.from_series(
        pd.Series([f"id-{i}" for i in range(1000)])
    ).is_distinctive()
    assert ColumnBaseline.from_series(pd.Series(["run", "idle"] * 500)).is_distinctive()
