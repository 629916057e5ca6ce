"""Simulated readings written as one file per window, as the batch pipeline will find them."""

import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

sys.path.insert(0, str(Path(__file__).parents[2] / "examples" / "sensors"))

from simulator import AmericanDates, simulate, window_file_name, write_windows

START, END = "2026-03-02T10:00Z", "2026-03-02T13:00Z"
HOUR = timedelta(hours=1)


def test_one_csv_per_window_named_after_its_start(tmp_path: Path) -> None:
    paths = write_windows(tmp_path, START, END, HOUR, machines=3, seed=2)
    names = [
        "readings_20260302T1000.csv",
        "readings_20260302T1100.csv",
        "readings_20260302T1200.csv",
    ]
    assert [path.name for path in paths] == names
    assert sorted(path.name for path in tmp_path.iterdir()) == names
    assert window_file_name("2026-03-02T11:00Z") == names[1]


def test_csv_windows_hold_iso_timestamps_and_the_simulated_readings(tmp_path: Path) -> None:
    paths = write_windows(tmp_path, START, END, HOUR, machines=3, seed=2)
    raw = pd.read_csv(paths[1])
    assert raw["ts"].iloc[0] == "2026-03-02T11:00:00Z"
    raw["ts"] = pd.to_datetime(raw["ts"], format="ISO8601", utc=True)
    expected = simulate(
        "2026-03-02T11:00Z", "2026-03-02T12:00Z", machines=3, seed=2, labelled=False
    )
    assert_frame_equal(raw, expected)


def test_parquet_windows_round_trip_exactly(tmp_path: Path) -> None:
    paths = write_windows(tmp_path, START, END, HOUR, machines=3, seed=2, fmt="parquet")
    assert paths[0].name == "readings_20260302T1000.parquet"
    expected = simulate(START, "2026-03-02T11:00Z", machines=3, seed=2, labelled=False)
    assert_frame_equal(pd.read_parquet(paths[0]), expected)


def test_labelled_windows_carry_the_label(tmp_path: Path) -> None:
    paths = write_windows(tmp_path, START, END, HOUR, machines=3, labelled=True)
    assert "failure_within_1h" in pd.read_csv(paths[0]).columns


def test_a_fault_can_hit_a_single_window(tmp_path: Path) -> None:
    paths = write_windows(
        tmp_path,
        START,
        END,
        HOUR,
        machines=3,
        faults_by_window={"2026-03-02T11:00Z": [AmericanDates()]},
    )
    first, second, third = (pd.read_csv(path)["ts"] for path in paths)
    assert first.iloc[0] == "2026-03-02T10:00:00Z"
    assert second.iloc[0] == "03/02/2026 11:00"
    assert third.iloc[0] == "2026-03-02T12:00:00Z"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"interval": timedelta(minutes=50)}, "not a whole, non-empty number"),
        ({"interval": timedelta(seconds=90)}, "whole number of minutes"),
        ({"faults_by_window": {"2026-03-02T10:30Z": []}}, "not a window start"),
        ({"fmt": "xlsx"}, "fmt must be 'csv' or 'parquet'"),
    ],
)
def test_bad_arguments_raise_before_anything_is_written(
    tmp_path: Path, arguments: dict, message: str
) -> None:
    call = {"interval": HOUR, **arguments}
    with pytest.raises(ValueError, match=message):
        write_windows(tmp_path / "out", START, END, call.pop("interval"), **call)
    assert not (tmp_path / "out").exists()
