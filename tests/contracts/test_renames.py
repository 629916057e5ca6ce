"""The rename finder on renames people make, on weather data and scikit-learn's data sets.

Each case renames one column of a real-shaped frame and expects the diagnosis to name the
source column, the reason its name fits, and the fix; negatives must not be called renames.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, Field, create_model
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine

from shipml.contracts import Baseline, Diagnosis, validate

# --- the data --------------------------------------------------------------------------------


def weather(days: int = 730, start: str = "2012-01-01", seed: int = 0) -> pd.DataFrame:
    """Daily weather like Seattle's: a seasonal temperature, rain on 40% of the days."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days, freq="D")
    season = np.sin(2 * np.pi * (index.day_of_year.to_numpy() - 105) / 365.25)
    temp_max = 16 + 9 * season + rng.normal(0, 3, days)
    rain = rng.random(days) < 0.4
    precipitation = np.where(rain, rng.gamma(2.0, 3.0, days), 0.0)
    kinds = np.where(rain, "rain", rng.choice(["sun", "fog", "drizzle"], days, p=[0.8, 0.1, 0.1]))
    return pd.DataFrame(
        {
            "date": index.date,
            "precipitation": precipitation,
            "temp_max": temp_max,
            "temp_min": temp_max - 8 + rng.normal(0, 2, days),
            "wind": rng.gamma(4.0, 0.8, days),
            "weather": kinds,
        }
    )


class Weather(BaseModel):
    date: date
    precipitation: float = Field(ge=0)
    temp_max: float
    temp_min: float
    wind: float = Field(ge=0)
    weather: Literal["drizzle", "rain", "sun", "snow", "fog"]


def _snake(name: str) -> str:
    return "_".join(name.replace("(", " ").replace(")", " ").replace("/", " ").split())


def sklearn_frame(loader: Callable[..., Any]) -> pd.DataFrame:
    """A scikit-learn data set as a frame, its column names in snake case."""
    frame = loader(as_frame=True).frame
    return frame.rename(columns={c: _snake(str(c)) for c in frame.columns})


DATA: dict[str, Callable[[], pd.DataFrame]] = {
    "weather": weather,
    "iris": lambda: sklearn_frame(load_iris),
    "wine": lambda: sklearn_frame(load_wine),
    "breast_cancer": lambda: sklearn_frame(load_breast_cancer),
    "diabetes": lambda: sklearn_frame(load_diabetes),
}


def contract_of(df: pd.DataFrame) -> type[BaseModel]:
    """A contract whose fields are the frame's columns (Weather for the weather frame)."""
    if "temp_max" in df.columns:
        return Weather
    fields: dict[str, Any] = {
        str(c): (float if pd.api.types.is_float_dtype(df[c]) else int, ...) for c in df.columns
    }
    return create_model("Row", **fields)


def _diagnoses(df: pd.DataFrame, model: type[BaseModel], **options: Any) -> list[Diagnosis]:
    result = validate(df, model, policy="quarantine", max_invalid_fraction=1.0, **options)
    return result.report.diagnoses


def _renames(diagnoses: list[Diagnosis]) -> dict[str, Diagnosis]:
    return {d.column: d for d in diagnoses if d.kind == "renamed_column"}


# --- renames that must be found ---------------------------------------------------------------

RENAMES = [
    # (data set, field, the column's new name, what the name match says)
    ("weather", "temp_max", "tmax", "tmax = temp max"),
    ("weather", "temp_max", "t_max", "initial (t = temp)"),
    ("weather", "temp_max", "tmp_max", "abbreviation (tmp = temp)"),
    ("weather", "temp_max", "max_temp", "words reordered (max_temp = temp_max)"),
    ("weather", "temp_max", "TempMax", "same name in another case"),
    ("weather", "temp_max", "temp_max_c", "unit suffix _c added"),
    ("weather", "temp_max", "maxTemperature", "abbreviation (temp = temperature)"),
    ("weather", "temp_max", "station_temp_max", "prefix station_ added"),
    ("weather", "temp_min", "tmin", "tmin = temp min"),
    ("weather", "precipitation", "precip", "abbreviation (precip = precipitation)"),
    ("weather", "precipitation", "prcp", "abbreviation (prcp = precipitation)"),
    ("weather", "precipitation", "precipitation_mm", "unit suffix _mm added"),
    ("weather", "wind", "WIND", "same name in another case"),
    ("weather", "wind", "wind_mps", "unit suffix _mps added"),
    ("iris", "sepal_length_cm", "SepalLengthCm", "same name in another case"),
    ("iris", "sepal_length_cm", "sepal_len_cm", "abbreviation (len = length)"),
    ("iris", "petal_width_cm", "petal_width", "unit suffix _cm dropped"),
    ("iris", "petal_length_cm", "petal_length_mm", "unit suffix changed (cm -> mm)"),
    ("wine", "malic_acid", "malicAcid", "same name in another case"),
    ("wine", "total_phenols", "phenols_total", "words reordered"),
    ("wine", "alcohol", "alc", "abbreviation (alc = alcohol)"),
    ("wine", "color_intensity", "colour_intensity", "color = colour"),
    ("breast_cancer", "mean_radius", "radius_mean", "words reordered"),
    ("breast_cancer", "worst_concave_points", "concave_points_worst", "words reordered"),
    ("diabetes", "bmi", "body_mass_index", "bmi = body mass index"),
    ("diabetes", "bp", "blood_pressure", "bp = blood pressure"),
]


@pytest.mark.parametrize(("data", "field", "new_name", "reason"), RENAMES)
def test_a_renamed_column_is_found_with_its_reason_and_fix(
    data: str, field: str, new_name: str, reason: str
) -> None:
    df = DATA[data]().rename(columns={field: new_name})

    rename = _renames(_diagnoses(df, contract_of(df.rename(columns={new_name: field}))))[field]

    assert rename.details["candidate"] == new_name
    assert reason in rename.details["name_reason"]
    assert rename.details["confidence"] >= 0.7
    assert "name" in rename.details["carried_by"]
    fix = f'Field(validation_alias=AliasChoices("{field}", "{new_name}"))'
    assert rename.details["fix"] == fix
    assert rename.message.endswith(f"fix: {fix}")


@pytest.mark.parametrize(("data", "field", "new_name", "reason"), RENAMES)
def test_with_a_baseline_the_values_back_the_rename(
    data: str, field: str, new_name: str, reason: str
) -> None:
    original = DATA[data]()
    baseline = Baseline.from_frame(original)
    df = original.rename(columns={field: new_name})
    if "unit suffix changed" in reason:
        df[new_name] = df[new_name] * 10  # cm -> mm: the values change with the unit

    rename = _renames(_diagnoses(df, contract_of(original), baseline=baseline))[field]

    assert rename.details["candidate"] == new_name
    expected = "unlike" if "unit suffix changed" in reason else "match"
    assert rename.details["values"] == expected


def test_a_rename_in_a_later_season_is_still_backed_by_the_values() -> None:
    baseline = Baseline.from_frame(weather(366, "2012-01-01"))
    winter = weather(31, "2013-01-01", seed=1).rename(columns={"temp_max": "tmax"})

    rename = _renames(_diagnoses(winter, Weather, baseline=baseline))["temp_max"]

    assert rename.details["values"] == "alike"
    assert rename.details["structure"] is True
    assert rename.details["carried_by"][0] == "name"
    assert set(rename.details["carried_by"]) == {"name", "structure", "values", "kind"}
    assert "its values are of the same kind as the baseline of temp_max" in rename.message


def test_the_structure_says_when_one_column_left_and_one_came() -> None:
    df = weather().rename(columns={"temp_max": "t_max"})

    rename = _renames(_diagnoses(df, Weather))["temp_max"]

    assert rename.details["signals"] == {"name": 0.7, "structure": 0.1, "kind": 0.05}
    assert "it is the only new column that fits the only missing one" in rename.message
    assert "Confidence 0.85, carried by the name, the structure, the dtype" in rename.message


def test_two_renamed_columns_are_paired_with_the_right_fields() -> None:
    df = weather().rename(columns={"temp_max": "max_temp", "temp_min": "min_temp"})

    renames = _renames(_diagnoses(df, Weather))

    assert renames["temp_max"].details["candidate"] == "max_temp"
    assert renames["temp_min"].details["candidate"] == "min_temp"
    assert renames["temp_max"].details["structure"] is False  # two columns left


# --- what must not be called a rename ------------------------------------------------------


@pytest.mark.parametrize("with_baseline", [False, True])
def test_an_unrelated_column_in_place_of_a_missing_one_is_not_a_rename(
    with_baseline: bool,
) -> None:
    original = weather()
    baseline = Baseline.from_frame(original) if with_baseline else None
    df = original.drop(columns="temp_max")
    df["humidity"] = np.random.default_rng(5).uniform(40, 100, len(df))

    diagnoses = _diagnoses(df, Weather, baseline=baseline)

    assert not _renames(diagnoses)
    (missing,) = [d for d in diagnoses if d.kind == "missing_column"]
    assert missing.column == "temp_max"


@pytest.mark.parametrize("with_baseline", [False, True])
def test_two_unrelated_columns_swapped_for_each_other_are_not_renames(
    with_baseline: bool,
) -> None:
    original = sklearn_frame(load_wine)
    baseline = Baseline.from_frame(original) if with_baseline else None
    rng = np.random.default_rng(4)
    df = original.drop(columns=["alcohol", "hue"])  # two other measurements in their place
    df["ph"] = rng.uniform(2.9, 3.9, len(df))
    df["sulphates"] = rng.lognormal(-0.5, 0.3, len(df))

    diagnoses = _diagnoses(df, contract_of(original), baseline=baseline)

    assert not _renames(diagnoses)
    assert {d.column for d in diagnoses if d.kind == "missing_column"} == {"alcohol", "hue"}


def test_the_other_extreme_is_not_a_rename() -> None:
    df = weather().drop(columns="temp_max")
    df["tmin"] = df["temp_min"] - 1  # t(emp) min is not temp max

    assert not _renames(_diagnoses(df, Weather))


def test_a_truly_new_column_is_no_rename() -> None:
    df = weather()
    df["uv_index"] = np.random.default_rng(3).integers(0, 11, len(df))

    result = validate(df, Weather)

    assert result.report.ok
    assert result.report.diagnoses == []


def test_a_new_column_beside_an_absent_optional_field_is_no_rename() -> None:
    class WithSnow(Weather):
        snowfall: float | None = None

    df = weather()
    df["uv_index"] = np.random.default_rng(3).uniform(0, 11, len(df))

    assert _diagnoses(df, WithSnow, baseline=Baseline.from_frame(weather())) == []
