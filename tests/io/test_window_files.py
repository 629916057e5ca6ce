"""Window files x schedules: every window reads exactly the rows of [start, end), or is refused.

A matrix of path templates and schedules, over files written the way a producer would (each
file holds the rows of its period). For each pair, either the settings are refused when loaded
(one line naming the problem), or every window reads exactly the rows whose time lies in it,
or a window fails with `MissingInput` naming the file it needs; never a row twice, never a
row of another window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipml.config import ConfigError, load_settings
from shipml.errors import IncompleteInput, MissingInput
from shipml.io._templates import PathTemplate
from shipml.io.sources import FileSource
from shipml.windows import Cadence, Cron, Window, next_windows, parse_interval

SPAN_START = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
SPAN_END = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
SHORT_SPAN = timedelta(minutes=2)  # for one-second windows

# name: (template, how much time each written file holds)
TEMPLATES = {
    "minute": ("m/{start:%Y%m%dT%H%M}.csv", timedelta(minutes=15)),
    "hourly": ("h/hourly_{start:%Y%m%dT%H}.csv", timedelta(hours=1)),
    "nested": ("n/{start:%Y/%m/%d}/{start:%H%M}.csv", timedelta(minutes=15)),
    "iso": ("i/{start}.csv", timedelta(minutes=15)),
    "start-end": ("s/{start:%Y%m%dT%H%M}-{end:%H%M}.csv", timedelta(minutes=15)),
    "parquet": ("p/{start:%Y%m%dT%H%M}.parquet", timedelta(minutes=15)),
}
SCHEDULES = ["1s", "15m", "30m", "1h", "2h", "cron 45 * * * *"]

REFUSED, EXACT, MISSING = "refused", "exact", "missing"
# Files without a time column: what each template gives on each schedule.
BY_FILE = {
    "minute": [REFUSED, EXACT, EXACT, EXACT, EXACT, EXACT],
    "hourly": [REFUSED, REFUSED, REFUSED, EXACT, EXACT, REFUSED],
    "nested": [REFUSED, EXACT, EXACT, EXACT, EXACT, EXACT],
    # Named to the second but holding 15 minutes: one-second windows cannot be told apart
    # from the files' names (left out); set a time column for those.
    "iso": [None, EXACT, EXACT, EXACT, EXACT, EXACT],
    "start-end": [REFUSED, EXACT, MISSING, MISSING, MISSING, MISSING],
    "parquet": [REFUSED, EXACT, EXACT, EXACT, EXACT, EXACT],
}
# The same files cut by their time column: coarser files are read by every window they overlap.
# One-second windows that hold no file's start find no file named for them.
BY_TIME = {
    "minute": [MISSING, EXACT, EXACT, EXACT, EXACT, EXACT],
    "hourly": [EXACT, EXACT, EXACT, EXACT, EXACT, EXACT],
    "nested": [MISSING, EXACT, EXACT, EXACT, EXACT, EXACT],
    "iso": [MISSING, EXACT, EXACT, EXACT, EXACT, EXACT],
    "start-end": [MISSING, EXACT, MISSING, MISSING, MISSING, MISSING],
    "parquet": [MISSING, EXACT, EXACT, EXACT, EXACT, EXACT],
}


def cadence_of(schedule: str) -> Cadence:
    if schedule.startswith("cron "):
        return Cron(schedule.removeprefix("cron "))
    return parse_interval(schedule)


def all_rows() -> pd.DataFrame:
    """A row every 37 seconds over the span, each with its own id."""
    seconds = np.arange(0, int((SPAN_END - SPAN_START).total_seconds()), 37)
    times = pd.to_datetime(SPAN_START) + pd.to_timedelta(seconds, unit="s")
    return pd.DataFrame({"id": np.arange(len(seconds)), "ts": times.tz_localize(None)})


def write_files(root: Path, template: str, period: timedelta, rows: pd.DataFrame) -> None:
    """One file per period, named by the template, holding that period's rows."""
    parsed = PathTemplate.parse(str(root / template))
    assert parsed is not None
    start = SPAN_START
    while start < SPAN_END:
        end = start + period
        inside = rows[
            (rows["ts"] >= start.replace(tzinfo=None)) & (rows["ts"] < end.replace(tzinfo=None))
        ]
        file = Path(parsed.name(start, end))
        file.parent.mkdir(parents=True, exist_ok=True)
        if file.suffix == ".parquet":
            inside.to_parquet(file, index=False)
        else:
            inside.assign(ts=inside["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S")).to_csv(
                file, index=False
            )
        start = end


def windows_of(cadence: Cadence) -> list[Window]:
    short = isinstance(cadence, timedelta) and cadence < timedelta(minutes=1)
    last = SPAN_START + SHORT_SPAN if short else SPAN_END
    shortest = cadence if isinstance(cadence, timedelta) else timedelta(hours=1)
    found = next_windows(cadence, SPAN_START, (last - SPAN_START) // shortest)
    return [window for window in found if window.end <= last]


def load_source(root: Path, template: str, schedule: str, time_column: str | None) -> FileSource:
    cadence = (
        f'cron = "{schedule.removeprefix("cron ")}"'
        if schedule.startswith("cron ")
        else f'every = "{schedule}"'
    )
    lines = ['[project]\nname = "matrix"', "[source]", f'path = "{template}"', "allow_empty = true"]
    if time_column:
        lines.append(f'time_column = "{time_column}"')
    (root / "shipml.toml").write_text("\n".join([*lines, "[schedule]", cadence]) + "\n")
    source = load_settings(root).window_source()
    assert isinstance(source, FileSource)
    return source


CASES = [
    pytest.param(name, schedule, mode, expected[index], id=f"{name}-{schedule}-{mode}")
    for mode, table in (("by-file", BY_FILE), ("by-time", BY_TIME))
    for name, expected in table.items()
    for index, schedule in enumerate(SCHEDULES)
    if expected[index] is not None
]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    root = tmp_path_factory.mktemp("window-files")
    rows = all_rows()
    for template, period in TEMPLATES.values():
        write_files(root, template, period, rows)
    return root, rows


@pytest.mark.parametrize(("name", "schedule", "mode", "expected"), CASES)
def test_each_window_reads_exactly_its_rows_or_is_refused(
    written: tuple[Path, pd.DataFrame], name: str, schedule: str, mode: str, expected: str
) -> None:
    root, rows = written
    template, _ = TEMPLATES[name]
    time_column = "ts" if mode == "by-time" else None
    if expected == REFUSED:
        with pytest.raises(ConfigError) as refused:
            load_source(root, template, schedule, time_column)
        assert "\n" not in str(refused.value) and "source.path" in str(refused.value)
        return
    source = load_source(root, template, schedule, time_column)
    read_ids: list[int] = []
    missing = 0
    for window in windows_of(cadence_of(schedule)):
        try:
            frame = source.read(window).frame
        except MissingInput as error:
            assert "\n" not in str(error) and str(window) in str(error)
            missing += 1
            continue
        times = pd.to_datetime(frame["ts"], utc=True)
        assert ((times >= window.start) & (times < window.end)).all(), window
        in_window = rows[
            (rows["ts"] >= window.start.replace(tzinfo=None))
            & (rows["ts"] < window.end.replace(tzinfo=None))
        ]
        assert sorted(frame["id"]) == sorted(in_window["id"]), window  # rows out = rows in
        read_ids.extend(frame["id"])
    assert len(read_ids) == len(set(read_ids))  # no row twice
    if expected == EXACT:
        assert missing == 0
        windows = windows_of(cadence_of(schedule))
        span = rows[
            (rows["ts"] >= windows[0].start.replace(tzinfo=None))
            & (rows["ts"] < windows[-1].end.replace(tzinfo=None))
        ]
        assert sorted(read_ids) == sorted(span["id"])  # no row lost
    else:
        assert missing > 0


def test_an_hourly_template_with_15_minute_windows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"names one file per hour but windows are 15m: windows"):
        load_source(tmp_path, "data/hourly_{start:%Y%m%dT%H}.csv", "15m", None)


def test_one_second_windows_over_the_stock_template_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"names one file per minute but windows are 1s"):
        load_source(tmp_path, "data/readings_{start:%Y%m%dT%H%M}.csv", "1s", None)


def test_30_minute_windows_over_15_minute_files_read_both_files(
    written: tuple[Path, pd.DataFrame],
) -> None:
    root, rows = written
    source = load_source(root, TEMPLATES["minute"][0], "30m", None)
    window = Window(SPAN_START, SPAN_START + timedelta(minutes=30))
    data = source.read(window)
    assert data.location.endswith("m/20261127T0000.csv and 1 more")
    assert len(data.frame) == ((rows["ts"] < datetime(2026, 11, 27, 0, 30)).sum())


def test_a_window_whose_later_file_is_missing_waits_for_it(tmp_path: Path) -> None:
    rows = all_rows()
    write_files(tmp_path, "d/{start:%Y%m%dT%H%M}.csv", timedelta(minutes=15), rows)
    (tmp_path / "d" / "20261127T0030.csv").unlink()
    source = FileSource(path=str(tmp_path / "d/{start:%Y%m%dT%H%M}.csv"))
    with pytest.raises(
        IncompleteInput, match=r"20261127T0030.csv does not exist \(3 of the window's 4"
    ):
        source.read(Window(SPAN_START, SPAN_START + timedelta(hours=1)))


def test_rows_outside_a_window_are_counted_and_never_returned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    file = tmp_path / "20261127T0000.csv"
    pd.DataFrame(
        {"ts": ["2026-11-27T00:05:00", "2026-11-27T00:20:00", "2026-11-26T23:59:59"]}
    ).to_csv(file, index=False)
    source = FileSource(path=str(tmp_path / "{start:%Y%m%dT%H%M}.csv"), time_column="ts")
    data = source.read(Window(SPAN_START, SPAN_START + timedelta(minutes=15)))
    assert data.frame["ts"].tolist() == ["2026-11-27T00:05:00"]
    assert data.rows_outside == 2
    assert "kept 1 row(s) of" in caplog.text and "2 row(s) outside the window" in caplog.text


def test_shipml_schedule_refuses_a_cadence_the_files_cannot_follow(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from _projects import write_project
    from shipml.cli import app

    directory = write_project(tmp_path)
    outcome = CliRunner().invoke(app, ["schedule", "--every", "1s", "--project", str(directory)])
    assert outcome.exit_code == 2
    lines = outcome.output.strip().splitlines()
    assert len(lines) == 1
    assert (
        "source.path: " in lines[0] and "names one file per minute but windows are 1s" in lines[0]
    )
