"""The sensors contracts accept clean simulated data and catch each boundary fault by column."""

import sys
from pathlib import Path

import pandas as pd
import pytest

from shipml.contracts import ContractViolation, validate

sys.path.insert(0, str(Path(__file__).parents[2] / "examples" / "sensors"))

from simulator import (
    AmericanDates,
    Fault,
    RenamedColumn,
    SensorDrift,
    SensorNulls,
    simulate,
    write_windows,
)

from contracts import LabelledReading, Reading

DAY = ("2026-03-02T00:00Z", "2026-03-03T00:00Z")


def test_a_day_of_clean_readings_satisfies_reading_and_labelled_reading() -> None:
    readings = simulate(*DAY, machines=10, seed=6)
    assert readings["temperature_c"].isna().any()  # the sensor drops now and then: allowed
    assert validate(readings, Reading).report.ok
    assert validate(readings, LabelledReading).report.ok


def test_readings_read_back_from_csv_satisfy_reading(tmp_path: Path) -> None:
    [path] = write_windows(tmp_path, "2026-03-02T10:00Z", "2026-03-02T11:00Z", pd.Timedelta("1h"))
    result = validate(pd.read_csv(path), Reading)
    assert result.report.ok
    assert str(result.valid["ts"].dt.tz) == "UTC"


def test_unlabelled_readings_do_not_satisfy_labelled_reading() -> None:
    readings = simulate(*DAY, machines=2, labelled=False)
    with pytest.raises(ContractViolation) as raised:
        validate(readings, LabelledReading)
    assert raised.value.report.missing_columns == ["failure_within_1h"]


@pytest.mark.parametrize(
    ("fault", "column", "rule"),
    [
        (RenamedColumn("temperature_c", "temp_c"), "temperature_c", "missing"),
        (SensorNulls("vibration_mm_s", fraction=0.3), "vibration_mm_s", "null"),
        (AmericanDates(), "ts", "datetime_from_date_parsing"),
        (SensorDrift("temperature_c", per_hour=50.0), "temperature_c", "less_than_equal"),
    ],
)
def test_each_boundary_fault_fails_validation_on_its_column(
    fault: Fault, column: str, rule: str
) -> None:
    readings = simulate("2026-03-02T10:00Z", "2026-03-02T14:00Z", machines=5, faults=[fault])
    with pytest.raises(ContractViolation) as raised:
        validate(readings, Reading)
    failures = raised.value.report.failures
    assert {(failure.column, failure.rule) for failure in failures} == {(column, rule)}


def test_sensor_nulls_fail_exactly_the_nulled_rows() -> None:
    readings = simulate(*DAY, machines=5, faults=[SensorNulls("vibration_mm_s", fraction=0.3)])
    with pytest.raises(ContractViolation) as raised:
        validate(readings, Reading)
    assert raised.value.report.invalid_rows == readings["vibration_mm_s"].isna().sum()
