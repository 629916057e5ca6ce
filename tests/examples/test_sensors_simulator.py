"""The sensors example's simulator: deterministic, window-consistent, failures foreshadowed."""

import sys
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

sys.path.insert(0, str(Path(__file__).parents[2] / "examples" / "sensors"))

from simulator import machine_ids, simulate

DAY = ("2026-03-02T00:00Z", "2026-03-03T00:00Z")


def test_the_same_seed_gives_the_same_readings() -> None:
    assert_frame_equal(simulate(*DAY, machines=5, seed=7), simulate(*DAY, machines=5, seed=7))


def test_another_seed_gives_other_readings() -> None:
    first, second = simulate(*DAY, machines=5, seed=7), simulate(*DAY, machines=5, seed=8)
    assert not first["temperature_c"].equals(second["temperature_c"])


@pytest.mark.parametrize(
    ("window_start", "window_end"),
    [("2026-03-02T10:00Z", "2026-03-02T11:00Z"), ("2026-03-02T07:13Z", "2026-03-02T19:41Z")],
)
def test_a_window_alone_equals_its_slice_of_a_longer_range(
    window_start: str, window_end: str
) -> None:
    whole = simulate(*DAY, machines=6, seed=3)
    inside = (whole["ts"] >= pd.Timestamp(window_start)) & (whole["ts"] < pd.Timestamp(window_end))
    window = simulate(window_start, window_end, machines=6, seed=3)
    assert_frame_equal(window, whole[inside].reset_index(drop=True))


def test_a_machine_reads_the_same_whatever_the_fleet_size() -> None:
    small, large = simulate(*DAY, machines=3, seed=1), simulate(*DAY, machines=9, seed=1)
    assert_frame_equal(
        small[small["machine_id"] == "M-002"].reset_index(drop=True),
        large[large["machine_id"] == "M-002"].reset_index(drop=True),
    )


def test_one_row_per_machine_and_minute_with_the_documented_columns() -> None:
    frame = simulate("2026-03-02T10:00Z", "2026-03-02T10:30Z", machines=4)
    assert list(frame.columns) == [
        "machine_id",
        "ts",
        "temperature_c",
        "vibration_mm_s",
        "pressure_bar",
        "rpm",
        "mode",
        "failure_within_1h",
    ]
    assert len(frame) == 30 * 4
    assert not frame.duplicated(["machine_id", "ts"]).any()
    assert set(frame["machine_id"]) == set(machine_ids(4)) == {"M-000", "M-001", "M-002", "M-003"}
    assert str(frame["ts"].dt.tz) == "UTC"
    assert frame["ts"].is_monotonic_increasing
    assert frame["failure_within_1h"].dtype == bool
    assert set(frame["mode"]) <= {"idle", "run", "maintenance"}


def test_failures_are_a_few_percent_of_readings_and_precede_maintenance() -> None:
    frame = simulate("2026-03-01T00:00Z", "2026-03-04T00:00Z", machines=20, seed=2)
    assert 0.01 < frame["failure_within_1h"].mean() < 0.06
    for _, machine in frame.groupby("machine_id"):
        label = machine["failure_within_1h"].to_numpy()
        mode = machine["mode"].to_numpy()
        failure_minutes = (label[:-1] & ~label[1:]).nonzero()[0] + 1
        assert (mode[failure_minutes] == "maintenance").all()
        assert not (label & (mode == "maintenance")).any()


def test_readings_degrade_in_the_hour_before_a_failure() -> None:
    frame = simulate("2026-03-01T00:00Z", "2026-03-04T00:00Z", machines=20, seed=2)
    running = frame[frame["mode"] == "run"]
    before_failure = running[running["failure_within_1h"]]
    healthy = running[~running["failure_within_1h"]]
    assert before_failure["temperature_c"].mean() > healthy["temperature_c"].mean() + 5
    assert before_failure["vibration_mm_s"].mean() > 1.4 * healthy["vibration_mm_s"].mean()
    assert before_failure["pressure_bar"].mean() < healthy["pressure_bar"].mean() - 0.2
    assert before_failure["rpm"].std() > 1.4 * healthy["rpm"].std()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"start": "2026-03-02T00:00", "end": "2026-03-02T01:00Z"}, "start must be timezone"),
        ({"start": "2026-03-02T01:00Z", "end": "2026-03-02T00:00Z"}, "must be after start"),
        ({"start": "2026-03-02T00:00:30Z", "end": "2026-03-02T01:00Z"}, "whole minute"),
        ({"start": "yesterday-ish", "end": "2026-03-02T01:00Z"}, "start is not a timestamp"),
        ({"machines": 0}, "machines must be an integer from 1"),
        ({"seed": -1}, "seed must be an integer from 0"),
        ({"faults": ["temperature_c"]}, "not a fault"),
    ],
)
def test_bad_arguments_raise_a_one_line_error(arguments: dict, message: str) -> None:
    call = {"start": "2026-03-02T00:00Z", "end": "2026-03-02T01:00Z", **arguments}
    with pytest.raises((ValueError, TypeError), match=message) as raised:
        simulate(call.pop("start"), call.pop("end"), **call)
    assert "\n" not in str(raised.value)
