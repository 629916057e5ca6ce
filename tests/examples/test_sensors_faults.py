"""Faults injected into simulated readings do what they say, alone and together."""

import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

sys.path.insert(0, str(Path(__file__).parents[2] / "examples" / "sensors"))

from simulator import (
    AmericanDates,
    FailureRateShift,
    RenamedColumn,
    SensorDrift,
    SensorNulls,
    simulate,
)

HOURS = ("2026-03-02T08:00Z", "2026-03-02T12:00Z")


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return simulate(*HOURS, machines=5, seed=4)


def test_renamed_column_moves_the_values_under_the_new_name(clean: pd.DataFrame) -> None:
    renamed = simulate(
        *HOURS, machines=5, seed=4, faults=[RenamedColumn("temperature_c", "temp_c")]
    )
    assert "temperature_c" not in renamed.columns
    assert_series_equal(renamed["temp_c"], clean["temperature_c"], check_names=False)


def test_sensor_nulls_blank_exactly_the_fraction_asked(clean: pd.DataFrame) -> None:
    faulty = simulate(*HOURS, machines=5, seed=4, faults=[SensorNulls("vibration_mm_s", 0.3)])
    assert faulty["vibration_mm_s"].isna().sum() == round(0.3 * len(clean))
    kept = faulty["vibration_mm_s"].notna()
    assert_series_equal(faulty["vibration_mm_s"][kept], clean["vibration_mm_s"][kept])
    assert_frame_equal(faulty.drop(columns="vibration_mm_s"), clean.drop(columns="vibration_mm_s"))


def test_american_dates_write_ts_as_month_day_year_text(clean: pd.DataFrame) -> None:
    faulty = simulate(*HOURS, machines=5, seed=4, faults=[AmericanDates()])
    assert faulty["ts"].map(lambda text: re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", text)).all()
    assert faulty["ts"].iloc[0] == "03/02/2026 08:00"
    parsed = pd.to_datetime(faulty["ts"], format="%m/%d/%Y %H:%M", utc=True)
    assert (parsed == clean["ts"]).all()


def test_sensor_drift_adds_a_steady_amount_per_hour(clean: pd.DataFrame) -> None:
    since = pd.Timestamp("2026-03-02T10:00Z")
    drift = SensorDrift("temperature_c", per_hour=2.0, since=since.to_pydatetime())
    faulty = simulate(*HOURS, machines=5, seed=4, faults=[drift])
    hours_since = ((clean["ts"] - since).dt.total_seconds() / 3600).clip(lower=0)
    added = faulty["temperature_c"] - clean["temperature_c"]
    assert ((added - 2.0 * hours_since).abs().dropna() < 1e-9).all()
    assert (added[clean["ts"] < since].dropna() == 0).all()
    assert added.max() == pytest.approx(2.0 * (119 / 60))


def test_sensor_drift_starts_at_the_first_row_by_default(clean: pd.DataFrame) -> None:
    faulty = simulate(*HOURS, machines=5, seed=4, faults=[SensorDrift(per_hour=1.0)])
    added = (faulty["temperature_c"] - clean["temperature_c"]).dropna()
    assert added.min() == 0.0
    assert added.max() == pytest.approx(239 / 60)


def test_failure_rate_shift_adds_failures_and_keeps_the_old_ones() -> None:
    days = ("2026-03-01T00:00Z", "2026-03-05T00:00Z")
    base = simulate(*days, machines=10, seed=5)
    shifted = simulate(*days, machines=10, seed=5, faults=[FailureRateShift(factor=3.0)])
    ratio = shifted["failure_within_1h"].mean() / base["failure_within_1h"].mean()
    assert 2.0 < ratio < 3.6
    assert shifted["failure_within_1h"][base["failure_within_1h"]].all()


def test_faults_compose_in_the_order_given(clean: pd.DataFrame) -> None:
    faults = [
        RenamedColumn("temperature_c", "temp_c"),
        SensorDrift("temp_c", per_hour=1.0),
        SensorNulls("temp_c", fraction=0.5),
        AmericanDates(),
    ]
    faulty = simulate(*HOURS, machines=5, seed=4, faults=faults)
    assert faulty["temp_c"].isna().mean() >= 0.5
    assert faulty["ts"].iloc[-1] == "03/02/2026 11:59"
    last_minute = faulty["ts"] == "03/02/2026 11:59"
    drifted = (faulty["temp_c"] - clean["temperature_c"])[last_minute].dropna()
    assert drifted.to_numpy() == pytest.approx(239 / 60)


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ([AmericanDates(), SensorDrift()], "must hold timezone-aware timestamps"),
        ([RenamedColumn("humidity", "rh")], "has no column 'humidity'"),
        ([RenamedColumn("rpm", "mode")], "already has a column 'mode'"),
        ([SensorDrift(since="2026-03-02T10:00")], "since must be timezone-aware"),
    ],
)
def test_faults_that_cannot_apply_say_why(faults: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        simulate(*HOURS, machines=2, faults=faults)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: SensorNulls(fraction=1.5), "fraction must be within"),
        (lambda: FailureRateShift(factor=-1), "factor must be >= 0"),
    ],
)
def test_faults_reject_impossible_settings(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()
