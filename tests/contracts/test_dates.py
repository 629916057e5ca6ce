"""Dates in a declared format: `DateFormat` in Pydantic, in validate() and in parse_datetimes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, ValidationError

from shipml.contracts import (
    ContractViolation,
    DateFormat,
    ValidationResult,
    parse_datetimes,
    validate,
)
from shipml.contracts.reading import read_table, text_columns_of


class Weather(BaseModel):
    date: Annotated[date, DateFormat("%Y/%m/%d")]
    temp_max: float


def _quarantine(df: pd.DataFrame, model: type[BaseModel]) -> ValidationResult:
    return validate(df, model, policy="quarantine", max_invalid_fraction=1.0)


def _weather(days: int = 400) -> pd.DataFrame:
    """A daily weather file as the Seattle one writes it: dates as 2012/01/01."""
    index = pd.date_range("2012-01-01", periods=days, freq="D")
    season = np.sin(2 * np.pi * index.day_of_year.to_numpy() / 365.25)
    return pd.DataFrame({"date": index.strftime("%Y/%m/%d"), "temp_max": 15 + 10 * season})


def test_a_file_in_the_declared_format_validates_into_real_dates() -> None:
    valid = validate(_weather(), Weather).valid

    assert valid["date"].iloc[0] == date(2012, 1, 1)
    assert type(valid["date"].iloc[0]) is date
    assert valid["date"].iloc[-1] == date(2013, 2, 3)


def test_an_impossible_date_is_one_report_line_however_many_rows() -> None:
    df = _weather(1461)
    df.loc[[10, 500, 900], "date"] = "2015/02/30"

    result = _quarantine(df, Weather)

    (failure,) = result.report.failures
    assert (failure.rule, failure.count) == ("date_format", 3)
    assert failure.message == "Input should be a date in the format YYYY/MM/DD"
    assert result.quarantined.index.tolist() == [10, 500, 900]


def test_pydantic_reads_the_declared_format_itself() -> None:
    assert Weather.model_validate({"date": "2012/01/31", "temp_max": 3}).date == date(2012, 1, 31)
    with pytest.raises(ValidationError, match="in the format YYYY/MM/DD"):
        Weather.model_validate({"date": "2012-01-31", "temp_max": 3})
    assert Weather.model_validate({"date": date(2012, 1, 31), "temp_max": 3}).date.day == 31


def test_iso_strings_are_refused_when_another_format_is_declared() -> None:
    df = _weather(10)
    df.loc[5, "date"] = "2012-01-06"

    with pytest.raises(ContractViolation) as raised:
        validate(df, Weather)

    assert raised.value.report.invalid_rows == 1


def test_several_formats_are_tried_in_order() -> None:
    class Reading(BaseModel):
        at: Annotated[datetime, DateFormat("%d.%m.%Y %H:%M", "%d.%m.%Y")]

    df = pd.DataFrame({"at": ["31.01.2024 10:30", "01.02.2024", "2024-02-01", None]})

    result = _quarantine(df, Reading)

    assert result.valid["at"].tolist()[:2] == [datetime(2024, 1, 31, 10, 30), datetime(2024, 2, 1)]
    assert result.quarantined.index.tolist() == [2, 3]  # not a format, and a null


def test_a_time_on_a_date_field_fails_as_pydantic_says() -> None:
    class Visit(BaseModel):
        day: Annotated[date, DateFormat("%m/%d/%Y %H:%M")]

    df = pd.DataFrame({"day": ["01/31/2024 00:00", "01/31/2024 10:30"] * 40})

    result = _quarantine(df, Visit)

    (failure,) = result.report.failures
    assert failure.rule == "date_from_datetime_inexact"
    assert failure.count == 40
    with pytest.raises(ValidationError, match="should have zero time"):
        Visit.model_validate({"day": "01/31/2024 10:30"})


def test_offsets_are_read_into_utc() -> None:
    class Event(BaseModel):
        at: Annotated[datetime, DateFormat("%d/%m/%Y %H:%M %z")]

    df = pd.DataFrame({"at": ["31/01/2024 10:30 +0200", "31/01/2024 10:30 -0100"] * 40})

    valid = validate(df, Event).valid

    assert str(valid["at"].dtype) == "datetime64[us, UTC]"
    assert valid["at"].iloc[0] == pd.Timestamp("2024-01-31 08:30", tz="UTC")
    assert valid["at"].iloc[1] == pd.Timestamp("2024-01-31 11:30", tz="UTC")


@pytest.mark.parametrize(
    ("unit", "numbers"),
    [("epoch_s", [1_700_000_000, 0, None]), ("epoch_ms", [1_700_000_000_000, 0, None])],
)
def test_epoch_numbers_are_read_in_their_unit(unit: str, numbers: list[Any]) -> None:
    class Sent(BaseModel):
        at: Annotated[datetime, DateFormat(unit)] | None

    df = pd.DataFrame({"at": numbers * 30})  # a null makes the column float64

    valid = validate(df, Sent).valid

    assert valid["at"].iloc[0] == pd.Timestamp("2023-11-14 22:13:20", tz="UTC")
    assert valid["at"].iloc[1] == pd.Timestamp("1970-01-01", tz="UTC")
    assert pd.isna(valid["at"].iloc[2])
    record = Sent.model_validate({"at": numbers[0]})
    assert record.at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_epoch_numbers_beyond_year_9999_fail() -> None:
    class Sent(BaseModel):
        at: Annotated[datetime, DateFormat("epoch_s")]

    df = pd.DataFrame({"at": [1_700_000_000, 10**12, -(10**12)] * 30})

    (failure,) = _quarantine(df, Sent).report.failures
    assert failure.count == 60
    assert failure.message == (
        "Input should be a number of seconds since 1970-01-01 UTC within the years 1-9999"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: DateFormat(), "needs at least one format"),
        (lambda: DateFormat("%Y/%m/%d %c"), "uses %c"),
        (lambda: DateFormat("YYYY/MM/DD"), "has no strftime directive"),
        (lambda: DateFormat("epoch_s", "%Y"), "takes no other format"),
    ],
)
def test_unusable_formats_are_refused_when_declared(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (Annotated[date, DateFormat("%Y %z")], "UTC offset"),
        (Annotated[date, DateFormat("epoch_ms")], "use it on a datetime field"),
        (Annotated[str, DateFormat("%Y/%m/%d")], "applies to a date or datetime field"),
    ],
)
def test_a_marker_on_the_wrong_field_is_refused_with_the_model(
    annotation: Any, message: str
) -> None:
    with pytest.raises(TypeError, match=message):

        class Row(BaseModel):
            day: annotation  # type: ignore[valid-type]


def test_the_diagnosis_compares_with_the_declared_format() -> None:
    df = _weather(200)
    df.loc[120:, "date"] = pd.to_datetime(df["date"][120:]).dt.strftime("%m/%d/%Y")

    report = _quarantine(df, Weather).report

    (diagnosis,) = report.diagnoses
    assert diagnosis.message.startswith(
        "date: declared YYYY/MM/DD, this file holds MM/DD/YYYY (American) from row 120 "
        "(80 rows from there on, e.g. '04/30/2012')"
    )
    assert diagnosis.message.endswith(
        "if both are expected, declare DateFormat('%Y/%m/%d', '%m/%d/%Y')"
    )
    assert diagnosis.details["found_format"] == "%m/%d/%Y"


def test_an_undeclared_field_is_told_how_to_declare_the_format() -> None:
    class Plain(BaseModel):
        date: date

    (diagnosis,) = _quarantine(_weather(40), Plain).report.diagnoses

    assert diagnosis.message.startswith("date holds YYYY/MM/DD dates in 40 rows")
    assert diagnosis.message.endswith("declare Annotated[date, DateFormat('%Y/%m/%d')]")


def test_a_one_row_request_is_read_by_the_format_like_a_large_frame() -> None:
    one = _weather(1).astype({"date": "str"})

    small = validate(one, Weather).valid
    large = validate(pd.concat([one] * 100, ignore_index=True), Weather).valid

    assert small["date"].iloc[0] == large["date"].iloc[0] == date(2012, 1, 1)
    assert small.dtypes.equals(large.dtypes)


def test_read_table_keeps_dates_without_separators_as_text(tmp_path: Path) -> None:
    class Compact(BaseModel):
        day: Annotated[date, DateFormat("%Y%m%d")]
        sent: Annotated[datetime, DateFormat("epoch_s")]

    path = tmp_path / "compact.csv"
    path.write_text("day,sent\n20240105,1700000000\n20240106,1700086400\n")

    frame = read_table(path, text_columns=text_columns_of(Compact))

    assert text_columns_of(Compact) == ["day"]
    assert validate(frame, Compact).valid["day"].tolist() == [date(2024, 1, 5), date(2024, 1, 6)]


# --- parse_datetimes -------------------------------------------------------------------------


def test_parse_datetimes_reads_a_time_column_and_marks_what_it_cannot_read() -> None:
    times = pd.Series(["01/01/2015 00:00", "01/01/2015 13:45", "2015-01-01", None], name="t")

    parsed = parse_datetimes(times, "%m/%d/%Y %H:%M")

    assert parsed.name == "t"
    assert str(parsed.dtype) == "datetime64[us]"
    assert parsed.tolist()[:2] == [pd.Timestamp("2015-01-01"), pd.Timestamp("2015-01-01 13:45")]
    unread = parsed.isna() & times.notna()
    assert unread.tolist() == [False, False, True, False]


def test_parse_datetimes_in_utc() -> None:
    times = pd.Series(["2015-01-01 10:00 +0100", "2015-01-01 10:00"])

    parsed = parse_datetimes(times, ["%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M"], utc=True)

    assert parsed.tolist() == [
        pd.Timestamp("2015-01-01 09:00", tz="UTC"),
        pd.Timestamp("2015-01-01 10:00", tz="UTC"),
    ]
    with pytest.raises(ValueError, match="pass utc=True"):
        parse_datetimes(times, ["%Y-%m-%d %H:%M %z", "%Y-%m-%d %H:%M"])


def test_the_json_schema_shows_the_declared_format_with_a_valid_example() -> None:
    class Event(BaseModel):
        day: Annotated[date, DateFormat("%d.%m.%Y")]
        sent: Annotated[datetime, DateFormat("epoch_ms")] | None = None

    properties = Event.model_json_schema()["properties"]

    assert properties["day"] == {
        "type": "string",
        "description": "written as DD.MM.YYYY (%d.%m.%Y)",
        "examples": ["31.01.2026"],
        "title": "Day",
    }
    example = {"day": properties["day"]["examples"][0]}
    assert Event.model_validate(example).day == date(2026, 1, 31)
    sent = properties["sent"]["anyOf"][0]
    assert sent["type"] == "integer"
    assert Event.model_validate({**example, "sent": sent["examples"][0]}).sent is not None
    assert Event.model_json_schema(mode="serialization")["properties"]["day"]["format"] == "date"
