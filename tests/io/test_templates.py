"""Path templates: how finely a name tells times apart, and the templates that are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shipml.io._templates import PathTemplate, check_time_format
from shipml.windows import Window


@pytest.mark.parametrize(
    ("template", "resolution"),
    [
        ("d/{start:%Y%m%dT%H%M}.csv", "minute"),
        ("d/{start:%Y-%m-%d}/{start:%H%M}.parquet", "minute"),
        ("d/{start}.csv", "second"),
        ("d/{start:%F}T{start:%T}.csv", "second"),
        ("d/{start:%Y%m%dT%H}.csv", "hour"),
        ("d/{start:%Y-%j}.csv", "day"),
        ("d/{start:%Y%m%d-%I%p}.csv", "hour"),
        ("d/{start:%G-W%V}.csv", "week"),
        ("d/{start:%Y-%m}.csv", "month"),
        ("d/{start:%Y}.csv", "year"),
        ("d/{end:%Y%m%dT%H%M}.csv", "minute"),
        ("d/{start:%Y%m%dT%H%M%z}.csv", "minute"),
    ],
)
def test_a_template_names_files_as_finely_as_its_codes_say(template: str, resolution: str) -> None:
    parsed = PathTemplate.parse(template)
    assert parsed is not None and parsed.resolution == resolution


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("d/{start:%H%M}.csv", "does not name the year: windows in different years"),
        ("d/{start:%m%d}.csv", "does not name the year"),
        ("d/{start:%Y%H}.csv", "does not name the month and day: windows on different days"),
        ("d/{start:%Y%m%d%M}.csv", "does not name the hour: windows in different hours"),
        ("d/{start:%Y%m%d%I}.csv", "does not name the hour"),  # 12-hour clock without %p
        ("d/{start:%Q}.csv", "%Q in template 'd/{start:%Q}.csv' is not a strftime code"),
        ("d/{start:%Y%m%d%}.csv", "a lone % in template"),
        ("d/{start:%s}.csv", "%s in template 'd/{start:%s}.csv' counts seconds in the machine's"),
        ("d/{start:%c}.csv", "depends on the locale"),
        ("d/{start:daily}.csv", "names no date or time"),
        ("d/{start!r}.csv", "without !conversion or nested braces"),
        ("d/{when}.csv", "unknown placeholder(s) ['when']"),
        ("d/{start.year}.csv", "unknown placeholder(s) ['start.year']"),
        ("d/{start.csv", "not a valid path template"),
    ],
)
def test_templates_that_could_mix_up_windows_are_refused(template: str, problem: str) -> None:
    with pytest.raises(ValueError) as refused:
        PathTemplate.parse(template)
    assert problem in str(refused.value)


def test_a_path_without_placeholders_is_no_template() -> None:
    assert PathTemplate.parse("data/all.csv") is None


def test_a_window_looks_for_every_name_that_falls_in_it() -> None:
    parsed = PathTemplate.parse("d/{start:%Y%m%dT%H}.csv")
    assert parsed is not None
    window = Window(
        datetime(2026, 11, 27, 10, 45, tzinfo=UTC), datetime(2026, 11, 27, 12, 15, tzinfo=UTC)
    )
    # The file holding the start comes first, with the time its period starts.
    assert parsed.names_in(window) == [
        (datetime(2026, 11, 27, 10, tzinfo=UTC), "d/20261127T10.csv"),
        (datetime(2026, 11, 27, 11, tzinfo=UTC), "d/20261127T11.csv"),
        (datetime(2026, 11, 27, 12, tzinfo=UTC), "d/20261127T12.csv"),
    ]


def test_a_template_with_end_names_only_the_windows_own_file() -> None:
    parsed = PathTemplate.parse("d/{start:%Y%m%dT%H%M}-{end:%H%M}.csv")
    assert parsed is not None
    window = Window(datetime(2026, 11, 27, 10, tzinfo=UTC), datetime(2026, 11, 27, 11, tzinfo=UTC))
    assert parsed.names_in(window) == [(window.start, "d/20261127T1000-1100.csv")]


@pytest.mark.parametrize("text", ["%d/%m/%Y %H:%M", "%Y/%m/%d", "%d.%m.%Y %H:%M:%S %z"])
def test_a_time_format_of_strftime_codes_is_accepted(text: str) -> None:
    assert check_time_format(text) == text


@pytest.mark.parametrize("text", ["dd/mm/yyyy", "%d/%m/%Y %q"])
def test_a_time_format_that_is_not_strftime_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="strftime"):
        check_time_format(text)
