"""Diagnoses: renamed columns, switched date formats and null surges, seen through validate()."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest
from pydantic import AliasChoices, BaseModel, Field, create_model

from shipml.contracts import Baseline, Diagnosis, ValidationReport, validate


class Reading(BaseModel):
    machine_id: str
    ts: datetime
    temperature_c: float | None = Field(ge=-40, le=150)
    vibration_mm_s: float = Field(ge=0)
    mode: Literal["idle", "run", "maintenance"]


def _readings(rows: int, seed: int = 0) -> pd.DataFrame:
    """Sensor readings as they arrive: timestamps as ISO 8601 strings."""
    rng = np.random.default_rng(seed)
    temperature = rng.normal(60, 8, rows)
    temperature[rng.random(rows) < 0.02] = np.nan
    return pd.DataFrame(
        {
            "machine_id": pd.Series(rng.integers(0, 20, rows)).astype(str).radd("m-"),
            "ts": pd.date_range("2024-01-01", periods=rows, freq="h").strftime("%Y-%m-%dT%H:%M"),
            "temperature_c": temperature,
            "vibration_mm_s": rng.gamma(2.0, 1.5, rows),
            "mode": rng.choice(["idle", "run", "maintenance"], rows, p=[0.2, 0.7, 0.1]),
        }
    )


def _report(df: pd.DataFrame, model: type[BaseModel], **options: Any) -> ValidationReport:
    return validate(df, model, policy="quarantine", max_invalid_fraction=1.0, **options).report


def _diagnoses(
    df: pd.DataFrame, model: type[BaseModel] = Reading, baseline: Baseline | None = None
) -> list[Diagnosis]:
    return _report(df, model, baseline=baseline).diagnoses


def _of_kind(diagnoses: list[Diagnosis], kind: str) -> list[Diagnosis]:
    return [d for d in diagnoses if d.kind == kind]


# --- renamed columns ---------------------------------------------------------------------


def test_a_renamed_column_is_named_with_its_likely_new_name() -> None:
    df = _readings(500).rename(columns={"temperature_c": "temp_c"})

    (rename,) = _of_kind(_diagnoses(df), "renamed_column")

    assert rename.column == "temperature_c"
    assert rename.message.startswith(
        "temperature_c is missing; temp_c appeared and looks like it (renamed upstream?)"
    )
    assert "abbreviation (temp = temperature)" in rename.message
    assert "its dtype float64 fits float" in rename.message
    assert rename.details["candidate"] == "temp_c"


@pytest.mark.parametrize(
    ("expected", "seen"),
    [
        ("machine_id", "machineId"),
        ("machine_id", "MACHINE_ID"),
        ("machine_id", "Machine ID"),
        ("vibration_mm_s", "vib"),
        ("vibration_mm_s", "vibrationMmS"),
        ("temperature_c", "temperature_f"),
        ("temperature_c", "TemperatureCelsius"),
        ("temperature_c", "temperture_c"),
        ("rotations_per_minute", "rpm"),
        ("quantity", "qty"),
    ],
)
def test_renames_in_another_style_abbreviation_unit_or_spelling_are_recognised(
    expected: str, seen: str
) -> None:
    model = create_model("Row", **{expected: (float, ...)})
    df = pd.DataFrame({seen: np.linspace(1.0, 2.0, 50)})

    (rename,) = _diagnoses(df, model)

    assert rename.kind == "renamed_column"
    assert rename.details["candidate"] == seen


@pytest.mark.parametrize(
    ("expected", "seen"),
    [
        ("sensor_1", "sensor_2"),
        ("sensor_a", "sensor_v"),
        ("temperature_c", "pressure_c"),
        ("temperature_c", "humidity"),
        ("height_m", "height_s"),
        ("created_at", "updated_at"),
        ("min_temp", "max_temp"),
        ("machine_id", "machine"),
    ],
)
def test_unrelated_names_are_not_suggested(expected: str, seen: str) -> None:
    model = create_model("Row", **{expected: (float, ...)})
    df = pd.DataFrame({seen: np.linspace(1.0, 2.0, 50)})

    (diagnosis,) = _diagnoses(df, model)

    assert diagnosis.kind == "missing_column"
    assert diagnosis.message == (
        f"{expected} is missing and no column looks like a rename of it "
        f"(unexpected columns: {seen})"
    )


def test_the_best_of_several_candidates_is_suggested_and_the_others_listed() -> None:
    df = _readings(200).rename(columns={"temperature_c": "temp_c"})
    df["temperature_f"] = df["temp_c"] * 1.8 + 32

    (rename,) = _of_kind(_diagnoses(df), "renamed_column")

    assert rename.details["candidate"] == "temp_c"
    assert rename.details["other_candidates"] == ["temperature_f"]


def test_a_candidate_whose_dtype_fits_the_field_is_preferred() -> None:
    df = _readings(200).drop(columns="temperature_c")
    df["temp_c"] = "n/a"  # alike in name, but text
    df["temp"] = np.linspace(20, 80, 200)

    (rename,) = _of_kind(_diagnoses(df), "renamed_column")

    assert rename.details["candidate"] == "temp"
    assert rename.details["fits_kind"] is True


def test_a_choice_field_is_not_matched_to_a_column_of_other_values() -> None:
    df = _readings(200).rename(columns={"mode": "model"})
    df["model"] = "XK-200"

    diagnoses = _diagnoses(df)

    assert not _of_kind(diagnoses, "renamed_column")
    assert _of_kind(diagnoses, "missing_column")[0].column == "mode"


def test_a_choice_field_is_matched_to_a_column_of_its_values() -> None:
    df = _readings(200).rename(columns={"mode": "Mode"})

    (rename,) = _of_kind(_diagnoses(df), "renamed_column")

    assert rename.details["candidate"] == "Mode"
    assert rename.details["fits_kind"] is True


def test_with_a_baseline_the_values_of_a_rename_are_checked() -> None:
    baseline = Baseline.from_frame(_readings(5000, seed=1))
    df = _readings(2000, seed=2).rename(columns={"temperature_c": "temp_c"})

    (rename,) = _of_kind(_diagnoses(df, baseline=baseline), "renamed_column")

    reasons = rename.message.split(". Confidence")[0]
    assert reasons.endswith("its values match the baseline of temperature_c")
    assert rename.details["values"] == "match"


def test_a_rename_to_an_unrelated_name_is_found_by_its_values() -> None:
    baseline = Baseline.from_frame(_readings(5000, seed=1))
    df = _readings(2000, seed=2).rename(columns={"temperature_c": "channel_7"})
    df["channel_8"] = np.random.default_rng(3).uniform(0, 500, len(df))

    (rename,) = _of_kind(_diagnoses(df, baseline=baseline), "renamed_column")

    assert rename.message == (
        "temperature_c is missing; channel_7 appeared and its values match the baseline of "
        "temperature_c (renamed upstream?); its dtype float64 fits float. Confidence 0.85, "
        "carried by the values, the dtype; "
        'fix: Field(validation_alias=AliasChoices("temperature_c", "channel_7"))'
    )
    assert rename.details["name_reason"] is None


def test_without_a_matching_distribution_an_unrelated_name_is_not_suggested() -> None:
    baseline = Baseline.from_frame(_readings(5000, seed=1))
    df = _readings(2000, seed=2).drop(columns="temperature_c")
    df["channel_8"] = np.random.default_rng(3).uniform(0, 500, len(df))

    diagnoses = _diagnoses(df, baseline=baseline)

    assert not _of_kind(diagnoses, "renamed_column")
    assert _of_kind(diagnoses, "missing_column")[0].column == "temperature_c"


def test_a_unit_change_is_reported_with_the_values_differing_from_the_baseline() -> None:
    baseline = Baseline.from_frame(_readings(5000, seed=1))
    df = _readings(2000, seed=2).rename(columns={"temperature_c": "temperature_f"})
    df["temperature_f"] = df["temperature_f"] * 1.8 + 32

    (rename,) = _of_kind(_diagnoses(df, baseline=baseline), "renamed_column")

    assert "unit suffix changed (c -> f)" in rename.message
    assert "but its values differ from the baseline of temperature_c" in rename.message


def test_columns_that_coexisted_in_the_baseline_are_not_renames_of_each_other() -> None:
    reference = _readings(1000, seed=1)
    reference["temp_c"] = reference["temperature_c"]
    baseline = Baseline.from_frame(reference)
    df = _readings(1000, seed=2).rename(columns={"temperature_c": "temp_c"})

    assert not _of_kind(_diagnoses(df, baseline=baseline), "renamed_column")


def test_an_optional_field_renamed_upstream_is_flagged_even_on_a_valid_frame() -> None:
    class Optional(BaseModel):
        machine_id: str
        temperature_c: float | None = None

    df = _readings(100)[["machine_id", "temperature_c"]].rename(columns={"temperature_c": "tempC"})

    report = _report(df, Optional)

    assert report.ok
    (rename,) = report.diagnoses
    assert rename.message.startswith(
        "temperature_c is absent (optional, so filled with its default); tempC appeared"
    )


def test_a_column_under_the_field_alias_is_not_taken_for_a_rename() -> None:
    class Aliased(BaseModel):
        temperature_c: float = Field(alias="TempC")
        vibration_mm_s: float = Field(validation_alias=AliasChoices("vib", "vibration"))

    df = pd.DataFrame({"TempC": [21.5, 22.0], "vibration": [0.1, 0.2]})

    assert _diagnoses(df, Aliased) == []


# --- date formats ------------------------------------------------------------------------


def _timestamps(rows: int, fmt: str) -> pd.Series:
    return pd.Series(pd.date_range("2024-01-01", periods=rows, freq="h").strftime(fmt))


@pytest.mark.parametrize("dtype", ["str", "object", "category"])
def test_a_switch_from_iso_to_american_dates_mid_column_is_located(dtype: str) -> None:
    df = _readings(2000)
    df.loc[1200:, "ts"] = _timestamps(2000, "%m/%d/%Y %H:%M")[1200:]
    df["ts"] = df["ts"].astype(dtype)

    (switch,) = _of_kind(_diagnoses(df), "date_format")

    assert switch.column == "ts"
    assert switch.message.startswith(
        "ts switched date format at row 1200: ISO 8601 (YYYY-MM-DD) before, "
        "MM/DD/YYYY (American) from there (e.g. '02/20/2024 00:00')"
    )
    assert switch.details["formats"] == {
        "ISO 8601 (YYYY-MM-DD)": 1200,
        "MM/DD/YYYY (American)": 800,
    }
    assert switch.details["switch_row"] == 1200
    assert switch.details["interleaved"] is False
    assert "read as MM/DD because" in switch.message


def test_dates_whose_day_and_month_are_all_twelve_or_less_are_called_ambiguous() -> None:
    class Delivery(BaseModel):
        day: date

    days = pd.Series(pd.date_range("2024-01-01", periods=12, freq="MS").strftime("%m/%d/%Y"))
    df = pd.DataFrame({"day": pd.concat([days] * 10, ignore_index=True)})

    (diagnosis,) = _of_kind(_diagnoses(df, Delivery), "date_format")

    assert diagnosis.message.startswith(
        "day holds MM/DD/YYYY or DD/MM/YYYY (ambiguous) dates in 120 rows (e.g. '01/01/2024'); "
        "a date field reads ISO 8601 (YYYY-MM-DD)"
    )
    assert "could be MM/DD or DD/MM" in diagnosis.message
    assert diagnosis.details["ambiguous_rows"] == 120


def test_a_switch_from_european_to_american_order_is_placed_between_certain_rows() -> None:
    class Shipment(BaseModel):
        shipped_on: str
        weight_kg: float

    days = pd.date_range("2024-01-01", periods=60, freq="D")  # 1 January to 29 February
    european, american = pd.Series(days.strftime("%d/%m/%Y")), pd.Series(days.strftime("%m/%d/%Y"))
    certain = int((days.day > 12).sum())  # days that show the order they are written in
    df = pd.DataFrame(
        {
            "shipped_on": pd.concat([european, american], ignore_index=True),
            "weight_kg": [1.0] * 119 + [None],  # one invalid row: diagnoses run
        }
    )

    (switch,) = _of_kind(_diagnoses(df, Shipment), "date_format")

    assert switch.details["formats"] == {"DD/MM/YYYY": certain, "MM/DD/YYYY (American)": certain}
    assert switch.details["switch_row"] == 60 + 12  # 01/13/2024 is the first certain MM/DD
    assert switch.details["switch_earliest_row"] == 60  # right after 29/02/2024, a certain DD/MM
    assert switch.details["ambiguous_rows"] == 2 * (60 - certain)
    assert "both orders occur" in switch.message


def test_formats_that_alternate_are_called_mixed() -> None:
    df = _readings(400)
    df.loc[1::2, "ts"] = _timestamps(400, "%m/%d/%Y %H:%M")[1::2]

    (mixed,) = _of_kind(_diagnoses(df), "date_format")

    assert mixed.message.startswith("ts mixes date formats from row 1 on")
    assert mixed.details["interleaved"] is True


def test_a_text_column_of_dates_in_one_format_gets_no_date_diagnosis() -> None:
    class Event(BaseModel):
        on: str
        value: float

    df = pd.DataFrame({"on": _timestamps(300, "%d/%m/%Y"), "value": [None] + [1.0] * 299})

    assert not _of_kind(_diagnoses(df, Event), "date_format")


def test_a_datetime_column_of_failing_non_dates_gets_no_date_diagnosis() -> None:
    df = _readings(100)
    df["ts"] = "unknown"

    assert not _of_kind(_diagnoses(df), "date_format")


# --- null rates --------------------------------------------------------------------------


def test_a_sensor_returning_nulls_is_reported_against_the_baseline() -> None:
    baseline = Baseline.from_frame(_readings(5000, seed=1))
    df = _readings(1000, seed=2)
    df.loc[600:, "temperature_c"] = None  # optional field: every row still valid

    report = _report(df, Reading, baseline=baseline)

    assert report.ok
    (surge,) = report.diagnoses
    assert surge.kind == "null_rate"
    assert surge.column == "temperature_c"
    nulls = int(df["temperature_c"].isna().sum())
    assert surge.message.startswith(
        f"temperature_c is null in {nulls / 10:.1f}% of rows ({nulls} of 1000)"
    )
    assert surge.details["baseline_rate"] == pytest.approx(
        baseline.columns["temperature_c"].null_rate
    )


@pytest.mark.parametrize(("rows", "nulls"), [(1000, 40), (40, 4), (60, 6)])
def test_a_modest_or_small_rise_of_nulls_is_not_reported(rows: int, nulls: int) -> None:
    baseline = Baseline.from_frame(_readings(5000, seed=1))  # about 2% null
    df = _readings(rows, seed=2)
    df["temperature_c"] = df["temperature_c"].fillna(60.0)
    df.loc[: nulls - 1, "temperature_c"] = None

    assert not _diagnoses(df, baseline=baseline)


def test_a_column_null_in_every_row_is_reported_without_a_baseline() -> None:
    df = _readings(50)
    df["vibration_mm_s"] = np.nan

    (empty,) = _of_kind(_diagnoses(df), "null_rate")

    assert empty.message == (
        "vibration_mm_s is null in every row (50 rows): the source sent no values for it"
    )


# --- clean data and odd input ------------------------------------------------------------


def test_clean_data_gets_no_diagnosis_with_or_without_a_baseline() -> None:
    baseline = Baseline.from_frame(_readings(5000, seed=1))
    df = _readings(2000, seed=2)

    stored = Baseline.model_validate_json(baseline.model_dump_json())

    assert _diagnoses(df) == []
    assert _diagnoses(df, baseline=stored) == []


def test_diagnoses_do_not_change_the_verdict() -> None:
    baseline = Baseline.from_frame(_readings(3000, seed=1))
    df = _readings(1000, seed=2).rename(columns={"temperature_c": "temp_c"})
    df.loc[500:, "ts"] = _timestamps(1000, "%m/%d/%Y %H:%M")[500:]

    without = _report(df, Reading)
    with_baseline = _report(df, Reading, baseline=baseline)

    assert with_baseline.diagnoses != without.diagnoses
    assert with_baseline.model_dump(exclude={"diagnoses"}) == without.model_dump(
        exclude={"diagnoses"}
    )


@pytest.mark.parametrize(
    "df",
    [
        pd.DataFrame(),
        pd.DataFrame({"machine_id": pd.Series([], dtype=str), "ts": pd.Series([], dtype=str)}),
        pd.DataFrame({"ts": [None] * 20, "temperature_c": [None] * 20, "tmp": [None] * 20}),
        pd.DataFrame({"ts": [1 + 2j] * 20, "temp_c": [b"\x00\xff"] * 20, "mode": [[1]] * 20}),
        pd.DataFrame({"ts": pd.to_timedelta(range(20), unit="s"), 0: range(20), 1.5: [{}] * 20}),
        pd.DataFrame([["2024-01-01", "x", "y"]] * 20, columns=["ts", "temp", "temp"]),
        pd.DataFrame({"ts": pd.Categorical(["01/02/2024", "2024-01-02", None] * 7)}),
        pd.DataFrame({"ts": ["01/02/2024", 20240102, None, "\u00e9t\u00e9 ☀"] * 5}),
    ],
    ids=[
        "empty",
        "no-rows",
        "all-null",
        "odd-objects",
        "odd-dtypes-and-labels",
        "duplicates",
        "categorical-dates",
        "mixed-objects",
    ],
)
def test_odd_input_is_diagnosed_without_errors(
    df: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    reference = pd.DataFrame({"temperature_c": [1.0, None], "ts": ["x", None], "mode": ["a", "b"]})
    baseline = Baseline.from_frame(reference)

    with caplog.at_level(logging.WARNING, logger="shipml.contracts.diagnose"):
        _diagnoses(df)
        _diagnoses(df, baseline=baseline)

    assert caplog.records == []  # no diagnosis step failed (a failure is logged and skipped)
