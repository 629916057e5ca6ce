"""Batch windows: parsing intervals and dates, aligning windows, cron schedules."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shipml.windows import (
    Cron,
    Window,
    WindowInputError,
    latest_complete_window,
    next_windows,
    parse_datetime,
    parse_interval,
    windows_between,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("90s", timedelta(seconds=90)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        (" 1h30m ", timedelta(minutes=90)),
    ],
)
def test_parse_interval_reads_durations(text: str, expected: timedelta) -> None:
    assert parse_interval(text) == expected


@pytest.mark.parametrize("text", ["often", "15", "15x", "-5m", "0m", "", "m15"])
def test_parse_interval_refuses_anything_else(text: str) -> None:
    with pytest.raises(WindowInputError, match="duration"):
        parse_interval(text)


def test_window_key_is_a_filename_safe_start() -> None:
    assert Window(utc(2026, 11, 27, 10, 15), utc(2026, 11, 27, 10, 30)).key == "20261127T1015Z"
    assert Window(utc(2026, 11, 27, 10, 15, 30), utc(2026, 11, 27, 10, 16)).key == (
        "20261127T101530Z"
    )


def test_window_prints_as_a_half_open_interval() -> None:
    window = Window(utc(2026, 11, 27, 10, 15), utc(2026, 11, 27, 10, 30))
    assert str(window) == "[2026-11-27T10:15:00Z, 2026-11-27T10:30:00Z)"


@pytest.mark.parametrize(
    ("start", "end", "problem"),
    [
        (datetime(2026, 11, 27, 10), utc(2026, 11, 27, 11), "UTC"),
        (
            datetime(2026, 11, 27, 10, tzinfo=timezone(timedelta(hours=1))),
            utc(2026, 11, 27, 11),
            "UTC",
        ),
        (utc(2026, 11, 27, 11), utc(2026, 11, 27, 10), "not before"),
        (utc(2026, 11, 27, 10), utc(2026, 11, 27, 10), "not before"),
        (datetime(2026, 11, 27, 10, 0, 0, 5, tzinfo=UTC), utc(2026, 11, 27, 11), "whole seconds"),
    ],
)
def test_window_refuses_bad_bounds(start: datetime, end: datetime, problem: str) -> None:
    with pytest.raises(WindowInputError, match=problem):
        Window(start, end)


def test_latest_complete_window_ends_at_the_last_grid_point() -> None:
    window = latest_complete_window(timedelta(minutes=15), now=utc(2026, 11, 27, 10, 7))
    assert window == Window(utc(2026, 11, 27, 9, 45), utc(2026, 11, 27, 10, 0))


def test_latest_complete_window_includes_a_window_ending_exactly_now() -> None:
    window = latest_complete_window(timedelta(minutes=15), now=utc(2026, 11, 27, 10, 15))
    assert window == Window(utc(2026, 11, 27, 10, 0), utc(2026, 11, 27, 10, 15))


def test_windows_are_aligned_to_the_epoch_for_any_interval() -> None:
    interval = timedelta(minutes=7)
    window = latest_complete_window(interval, now=utc(2026, 11, 27, 10, 7, 33))
    epoch = utc(1970, 1, 1)
    assert (window.start - epoch) % interval == timedelta(0)
    assert window.end - window.start == interval
    assert window.end <= utc(2026, 11, 27, 10, 7, 33) < window.end + interval


def test_latest_complete_window_takes_naive_now_as_utc() -> None:
    naive = latest_complete_window(timedelta(hours=1), now=datetime(2026, 11, 27, 10, 30))
    assert naive == Window(utc(2026, 11, 27, 9), utc(2026, 11, 27, 10))


def test_latest_complete_window_defaults_to_the_current_time() -> None:
    before = datetime.now(UTC)
    window = latest_complete_window(timedelta(minutes=1))
    assert before - timedelta(minutes=2) <= window.start
    assert window.end <= datetime.now(UTC)


def test_windows_between_covers_the_range_without_gaps() -> None:
    windows = windows_between(utc(2026, 11, 27, 10), utc(2026, 11, 27, 11), timedelta(minutes=15))
    assert [w.key for w in windows] == [
        "20261127T1000Z",
        "20261127T1015Z",
        "20261127T1030Z",
        "20261127T1045Z",
    ]
    assert all(a.end == b.start for a, b in itertools.pairwise(windows))
    assert windows[-1].end == utc(2026, 11, 27, 11)


def test_windows_between_refuses_a_bound_off_the_grid() -> None:
    with pytest.raises(WindowInputError) as caught:
        windows_between(utc(2026, 11, 27, 10, 7), utc(2026, 11, 27, 11), timedelta(minutes=15))
    message = str(caught.value)
    assert "2026-11-27T10:07:00Z is not on the 15m window grid" in message
    assert "2026-11-27T10:00:00Z and 2026-11-27T10:15:00Z" in message


def test_windows_between_refuses_an_empty_range() -> None:
    with pytest.raises(WindowInputError, match="not before"):
        windows_between(utc(2026, 11, 27, 11), utc(2026, 11, 27, 10), timedelta(minutes=15))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27", utc(2026, 11, 27)),
        ("2026-11-27T10:15", utc(2026, 11, 27, 10, 15)),
        ("2026-11-27 10:15:00Z", utc(2026, 11, 27, 10, 15)),
        ("2026-11-27T11:15:00+01:00", utc(2026, 11, 27, 10, 15)),
        ("20261127T1015Z", utc(2026, 11, 27, 10, 15)),
    ],
)
def test_parse_datetime_reads_iso_8601_and_takes_naive_as_utc(
    text: str, expected: datetime
) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["11/27/2026", "27/11/2026 10:15", "11-27-2026", "27.11.2026"])
def test_parse_datetime_refuses_american_and_day_first_dates(text: str) -> None:
    with pytest.raises(WindowInputError, match=r"ambiguous.*ISO 8601"):
        parse_datetime(text)


def test_parse_datetime_refuses_other_text() -> None:
    with pytest.raises(WindowInputError, match="expected an ISO 8601 date"):
        parse_datetime("yesterday")


def test_cron_window_runs_from_the_previous_fire_to_the_last() -> None:
    window = latest_complete_window(Cron("*/15 * * * *"), now=utc(2026, 11, 27, 10, 7))
    assert window == Window(utc(2026, 11, 27, 9, 45), utc(2026, 11, 27, 10, 0))


def test_cron_window_matches_the_equivalent_interval() -> None:
    now = utc(2026, 11, 27, 13, 59, 59)
    assert latest_complete_window(Cron("0 * * * *"), now=now) == latest_complete_window(
        timedelta(hours=1), now=now
    )


def test_cron_is_evaluated_in_its_time_zone() -> None:
    # 06:00 in Paris is 05:00 UTC in winter.
    window = latest_complete_window(Cron("0 6 * * *", "Europe/Paris"), now=utc(2026, 11, 27, 12))
    assert window == Window(utc(2026, 11, 26, 5), utc(2026, 11, 27, 5))


def test_cron_window_across_a_daylight_saving_change_is_23_hours() -> None:
    # Paris moves to summer time on 2026-03-29: 06:00 local is 04:00 UTC from that day.
    window = latest_complete_window(Cron("0 6 * * *", "Europe/Paris"), now=utc(2026, 3, 29, 12))
    assert window == Window(utc(2026, 3, 28, 5), utc(2026, 3, 29, 4))


def test_a_rare_cron_schedule_still_finds_its_previous_fires() -> None:
    window = latest_complete_window(Cron("0 0 1 1 *"), now=utc(2026, 11, 27))
    assert window == Window(utc(2025, 1, 1), utc(2026, 1, 1))


def test_windows_between_fire_times_of_a_cron_schedule() -> None:
    windows = windows_between(utc(2026, 11, 27, 0), utc(2026, 11, 27, 3), Cron("0 * * * *"))
    assert [(w.start.hour, w.end.hour) for w in windows] == [(0, 1), (1, 2), (2, 3)]


def test_windows_between_refuses_a_bound_that_is_not_a_fire_time() -> None:
    with pytest.raises(WindowInputError, match="not a fire time"):
        windows_between(utc(2026, 11, 27, 0, 30), utc(2026, 11, 27, 3), Cron("0 * * * *"))


@pytest.mark.parametrize(
    ("expression", "zone", "problem"),
    [
        ("every 15 minutes", "UTC", "crontab"),
        ("61 * * * *", "UTC", "crontab"),
        ("*/15 * * * *", "Mars/Olympus", "time zone"),
    ],
)
def test_cron_refuses_bad_expressions_and_zones(expression: str, zone: str, problem: str) -> None:
    with pytest.raises(WindowInputError, match=problem):
        Cron(expression, zone)


@pytest.mark.parametrize(
    ("expression", "weekdays"),
    [
        ("0 0 * * 1", {"Mon"}),
        ("0 0 * * 0", {"Sun"}),
        ("0 0 * * 7", {"Sun"}),
        ("0 0 * * 1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("0 0 * * 5-7", {"Fri", "Sat", "Sun"}),
        ("0 0 * * */2", {"Sun", "Tue", "Thu", "Sat"}),
        ("0 0 * * 1/3", {"Mon", "Thu", "Sun"}),
        ("0 0 * * MON,wed", {"Mon", "Wed"}),
    ],
)
def test_cron_weekdays_are_counted_from_sunday_as_cron_does(
    expression: str, weekdays: set[str]
) -> None:
    windows = next_windows(Cron(expression), utc(2027, 1, 1), 14)
    assert {window.start.strftime("%a") for window in windows} == weekdays


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 0 30 2 *", "never fires (does the month have that day?)"),
        ("0 0 31 4 *", "never fires"),
        ("0 0 29 2 1", "fires less than twice in 8 years"),
        ("0 0 * * 8", "'8' is not a day of the week"),
        ("0 0 * * 5-2", "'5-2' is not a day-of-week range"),
    ],
)
def test_a_cron_that_cannot_cut_windows_is_refused(expression: str, problem: str) -> None:
    with pytest.raises(WindowInputError, match=re.escape(problem)):
        Cron(expression)


def test_next_windows_starts_at_the_next_grid_point_or_fire() -> None:
    interval = next_windows(timedelta(minutes=15), utc(2026, 11, 27, 10, 7), 2)
    assert [w.start for w in interval] == [utc(2026, 11, 27, 10, 15), utc(2026, 11, 27, 10, 30)]
    on_grid = next_windows(timedelta(minutes=15), utc(2026, 11, 27, 10, 15), 1)
    assert on_grid[0] == Window(utc(2026, 11, 27, 10, 15), utc(2026, 11, 27, 10, 30))
    cron = next_windows(Cron("0 9 * * 1-5"), utc(2027, 1, 1, 12), 2)
    assert cron == [
        Window(utc(2027, 1, 4, 9), utc(2027, 1, 5, 9)),
        Window(utc(2027, 1, 5, 9), utc(2027, 1, 6, 9)),
    ]
