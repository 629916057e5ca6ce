"""Window sources: files per window, one file cut by time, SQL queries, data versions."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from shipml.config import ConfigError, load_settings
from shipml.errors import EmptyInput, UnusableInput
from shipml.fingerprints import frame_version
from shipml.io.sources import (
    FileSource,
    MissingInput,
    SourceError,
    SqlSource,
)
from shipml.versioning.lineage import file_version
from shipml.windows import Window

WINDOW = Window(
    datetime(2026, 11, 27, 10, 15, tzinfo=UTC), datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
)
LATER = Window(
    datetime(2026, 11, 27, 10, 30, tzinfo=UTC), datetime(2026, 11, 27, 10, 45, tzinfo=UTC)
)

# Times around WINDOW: before, at its start, inside, an offset time inside, at its end.
TIMES = [
    "2026-11-27T10:14:59",
    "2026-11-27T10:15:00",
    "2026-11-27T10:29:59",
    "2026-11-27T11:20:00+01:00",
    "2026-11-27T10:30:00",
]


def sha256_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def readings(times: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"ts": times, "machine": [f"m{i}" for i in range(len(times))]})


def test_a_path_template_reads_each_windows_own_file(tmp_path: Path) -> None:
    template = str(tmp_path / "readings" / "{start:%Y-%m-%dT%H%M}.csv")
    first = write_csv(tmp_path / "readings" / "2026-11-27T1015.csv", readings(TIMES[:2]))
    write_csv(tmp_path / "readings" / "2026-11-27T1030.csv", readings(TIMES[:3]))

    data = FileSource(path=template).read(WINDOW)

    assert data.location == str(first)
    assert data.frame["machine"].tolist() == ["m0", "m1"]
    assert data.version == sha256_of(first)
    assert len(FileSource(path=template).read(LATER).frame) == 3


def test_a_missing_window_file_raises_missing_input_with_its_path(tmp_path: Path) -> None:
    source = FileSource(path=tmp_path / "{start:%Y%m%dT%H%M}-{end:%H%M}.parquet")
    with pytest.raises(MissingInput) as caught:
        source.read(WINDOW)
    expected = tmp_path / "20261127T1015-1030.parquet"
    assert caught.value.location == str(expected)
    assert str(caught.value) == (
        f"no input for window [2026-11-27T10:15:00Z, 2026-11-27T10:30:00Z): "
        f"{expected} does not exist"
    )


def test_a_header_only_window_file_is_refused_like_shipml_validate_does(tmp_path: Path) -> None:
    (tmp_path / "20261127T1015.csv").write_text("ts,machine\n")
    with pytest.raises(EmptyInput, match=r"20261127T1015.csv has a header but no rows; set"):
        FileSource(path=tmp_path / "{start:%Y%m%dT%H%M}.csv").read(WINDOW)


def test_a_source_that_allows_empty_windows_reads_a_header_only_file(tmp_path: Path) -> None:
    (tmp_path / "20261127T1015.csv").write_text("ts,machine\n")
    source = FileSource(path=tmp_path / "{start:%Y%m%dT%H%M}.csv", allow_empty=True)
    data = source.read(WINDOW)
    assert data.frame.empty and list(data.frame.columns) == ["ts", "machine"]


def test_a_window_with_no_rows_in_the_file_is_refused_unless_allowed(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "all.csv", readings(TIMES[:1]))
    with pytest.raises(EmptyInput, match=r"none of the 1 row\(s\) of .*all.csv lie in the window"):
        FileSource(path=file, time_column="ts").read(WINDOW)
    data = FileSource(path=file, time_column="ts", allow_empty=True).read(WINDOW)
    assert data.frame.empty and data.rows_outside == 1


def test_one_csv_is_cut_to_the_window_by_its_time_column(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "all.csv", readings(TIMES))
    data = FileSource(path=file, time_column="ts").read(WINDOW)
    # Start included, end excluded, naive times taken as UTC, offsets converted.
    assert data.frame["machine"].tolist() == ["m1", "m2", "m3"]
    assert data.frame["ts"].tolist() == TIMES[1:4]  # the rows come back as they were
    assert data.frame.index.tolist() == [0, 1, 2]
    assert data.version == sha256_of(file)


def test_one_file_without_a_time_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="give a time_column"):
        FileSource(path=tmp_path / "all.csv")


@pytest.mark.parametrize("timezone", [None, "UTC", "Europe/Paris"])
def test_one_parquet_file_is_filtered_while_reading(tmp_path: Path, timezone: str | None) -> None:
    stamps = pd.to_datetime([t[:19] for t in TIMES]).tz_localize(timezone)
    frame = pd.DataFrame({"ts": stamps, "value": range(len(TIMES))})
    frame.to_parquet(tmp_path / "all.parquet", row_group_size=2)
    data = FileSource(path=tmp_path / "all.parquet", time_column="ts").read(WINDOW)
    utc_stamps = stamps.tz_localize("UTC") if timezone is None else stamps.tz_convert("UTC")
    inside = [i for i, t in enumerate(utc_stamps) if WINDOW.start <= t < WINDOW.end]
    assert data.frame["value"].tolist() == inside
    assert inside  # the file does hold rows of the window


def test_parquet_with_a_text_time_column_is_cut_like_csv(tmp_path: Path) -> None:
    readings(TIMES).to_parquet(tmp_path / "all.parquet")
    data = FileSource(path=tmp_path / "all.parquet", time_column="ts").read(WINDOW)
    assert data.frame["machine"].tolist() == ["m1", "m2", "m3"]


def test_rows_without_a_time_are_refused_not_dropped(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "all.csv", readings([TIMES[1], "", TIMES[2]]))
    with pytest.raises(UnusableInput, match="column 'ts' is empty in 1 row"):
        FileSource(path=file, time_column="ts").read(WINDOW)


def test_parquet_rows_without_a_time_are_refused_not_dropped(tmp_path: Path) -> None:
    stamps = pd.to_datetime([TIMES[1], None, TIMES[2]])
    pd.DataFrame({"ts": stamps}).to_parquet(tmp_path / "all.parquet")
    with pytest.raises(UnusableInput, match="column 'ts' is empty in 1 row"):
        FileSource(path=tmp_path / "all.parquet", time_column="ts").read(WINDOW)


def test_times_that_are_not_iso_8601_are_refused(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "all.csv", readings([TIMES[1], "11/27/2026 10:20"]))
    with pytest.raises(UnusableInput, match=r"1 value\(s\) that are not ISO 8601.*'11/27/2026"):
        FileSource(path=file, time_column="ts").read(WINDOW)


def test_a_missing_time_column_is_named(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "all.csv", readings(TIMES))
    with pytest.raises(UnusableInput, match="has no time column 'when'; its columns are 'ts'"):
        FileSource(path=file, time_column="when").read(WINDOW)


def test_a_dvc_tracked_file_is_versioned_by_its_dvc_md5(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "data.csv", readings(TIMES))
    script = "from dvc.repo import Repo; Repo.init('.', no_scm=True).add('data.csv')"
    subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**os.environ, "DVC_NO_ANALYTICS": "1"},
        check=True,
        capture_output=True,
        timeout=60,
    )
    md5 = hashlib.md5(file.read_bytes()).hexdigest()
    assert f"md5: {md5}" in (tmp_path / "data.csv.dvc").read_text()
    assert file_version(file) == f"md5:{md5}"
    assert FileSource(path=file, time_column="ts").read(WINDOW).version == f"md5:{md5}"


def test_a_file_changed_since_dvc_add_is_versioned_by_its_content(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "data.csv", readings(TIMES))
    (tmp_path / "data.csv.dvc").write_text(
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 1\n  hash: md5\n  path: data.csv\n"
    )
    assert file_version(file) == sha256_of(file)


def test_a_dvc_lock_output_is_versioned_by_its_md5(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    file = write_csv(tmp_path / "data" / "prepared" / "readings.csv", readings(TIMES))
    md5 = hashlib.md5(file.read_bytes()).hexdigest()
    (tmp_path / "dvc.lock").write_text(
        textwrap.dedent(
            f"""\
            schema: '2.0'
            stages:
              prepare:
                cmd: python prepare.py
                deps:
                - path: prepare.py
                  hash: md5
                  md5: 11111111111111111111111111111111
                  size: 10
                outs:
                - path: data/prepared/readings.csv
                  hash: md5
                  md5: {md5}
                  size: {file.stat().st_size}
            """
        )
    )
    assert file_version(file) == f"md5:{md5}"
    other = write_csv(tmp_path / "data" / "other.csv", readings(TIMES[:1]))
    assert file_version(other) == sha256_of(other)


def test_an_unreadable_dvc_file_falls_back_to_the_content_hash(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "data.csv", readings(TIMES))
    (tmp_path / "data.csv.dvc").write_text("outs: [unclosed\n")
    assert file_version(file) == sha256_of(file)


def test_frame_version_follows_values_names_and_order() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert frame_version(frame) == frame_version(frame.copy())
    assert frame_version(frame) != frame_version(frame.assign(a=[1, 3]))
    assert frame_version(frame) != frame_version(frame.rename(columns={"a": "c"}))
    assert frame_version(frame) != frame_version(frame.iloc[::-1])
    assert frame_version(frame).startswith("sha256:")


@pytest.fixture
def readings_table(postgres_url: str) -> Iterator[str]:
    """A readings table in the test database with naive and aware time columns."""
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(
            text("create table readings (ts timestamptz, naive_ts timestamp, machine text)")
        )
        for position, moment in enumerate(TIMES):
            stamp = pd.Timestamp(moment)
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
            connection.execute(
                text("insert into readings values (:ts, :naive, :machine)"),
                {"ts": stamp, "naive": stamp.tz_localize(None), "machine": f"m{position}"},
            )
    yield "readings"
    with engine.begin() as connection:
        connection.execute(text("drop table readings"))
    engine.dispose()


def test_a_sql_query_reads_the_window_from_postgresql(
    postgres_url: str, readings_table: str
) -> None:
    query = (
        f"select machine, ts from {readings_table} "
        "where ts >= :start and ts < :end order by machine"
    )
    source = SqlSource(url=postgres_url, query=query)
    try:
        data = source.read(WINDOW)
        again = source.read(WINDOW)
        later = source.read(LATER)
    finally:
        source.close()
    assert data.frame["machine"].tolist() == ["m1", "m2", "m3"]
    assert data.version == again.version == frame_version(data.frame)
    assert later.frame["machine"].tolist() == ["m4"]
    assert later.version != data.version
    assert data.location == postgres_url


def test_naive_sql_timestamps_are_compared_as_utc(postgres_url: str, readings_table: str) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    engine = create_engine(postgres_url)
    with engine.begin() as connection:  # a server default far from UTC
        connection.execute(text(f"alter database {database} set timezone to 'America/New_York'"))
    engine.dispose()
    query = (
        f"select machine from {readings_table} "
        "where naive_ts >= :start and naive_ts < :end order by machine"
    )
    source = SqlSource(url=postgres_url, query=query)
    try:
        assert source.read(WINDOW).frame["machine"].tolist() == ["m1", "m2", "m3"]
    finally:
        source.close()
        engine = create_engine(postgres_url)
        with engine.begin() as connection:
            connection.execute(text(f"alter database {database} reset timezone"))
        engine.dispose()


def test_a_failing_query_is_one_clear_line(postgres_url: str) -> None:
    source = SqlSource(url=postgres_url, query="select * from no_such_table where :start < :end")
    try:
        with pytest.raises(SourceError) as caught:
            source.read(WINDOW)
    finally:
        source.close()
    message = str(caught.value)
    assert "\n" not in message
    assert 'relation "no_such_table" does not exist' in message
    assert message.startswith(f"{postgres_url}: query for window [2026-11-27T10:15:00Z")


def test_the_location_of_a_sql_source_hides_the_password() -> None:
    source = SqlSource(
        url="postgresql+psycopg://reader:s3cret@127.0.0.1/test", query="select :start, :end"
    )
    assert "s3cret" not in source.location and "reader:***@" in source.location
    source.close()


def test_source_from_settings_builds_a_file_source_in_the_project(tmp_path: Path) -> None:
    (tmp_path / "shipml.toml").write_text(
        '[project]\nname = "p"\n[source]\npath = "data/{start:%Y%m%dT%H%M}.csv"\n'
    )
    write_csv(tmp_path / "data" / "20261127T1015.csv", readings(TIMES[:2]))
    source = load_settings(tmp_path).window_source()
    assert isinstance(source, FileSource)
    assert source.read(WINDOW).frame["machine"].tolist() == ["m0", "m1"]


def test_source_from_settings_builds_a_sql_source(
    tmp_path: Path, postgres_url: str, readings_table: str
) -> None:
    (tmp_path / "shipml.toml").write_text(
        f'[project]\nname = "p"\n[source]\nkind = "sql"\nurl = "{postgres_url}"\n'
        f'query = "select machine from {readings_table} where ts >= :start and ts < :end"\n'
    )
    source = load_settings(tmp_path).window_source()
    assert isinstance(source, SqlSource)
    try:
        assert len(source.read(WINDOW).frame) == 3
    finally:
        source.close()


def test_source_from_settings_without_a_source_table_says_what_to_add(tmp_path: Path) -> None:
    (tmp_path / "shipml.toml").write_text('[project]\nname = "p"\n')
    with pytest.raises(ConfigError, match=r"no \[source\] table; add one"):
        load_settings(tmp_path).window_source()


def test_a_declared_time_format_reads_day_first_times(tmp_path: Path) -> None:
    file = write_csv(
        tmp_path / "all.csv",
        readings(["01/01/2015 00:00", "27/11/2026 10:15", "27/11/2026 10:29", "27/11/2026 10:30"]),
    )
    source = FileSource(path=file, time_column="ts", time_format="%d/%m/%Y %H:%M")
    data = source.read(WINDOW)
    assert data.frame["machine"].tolist() == ["m1", "m2"]
    assert data.frame["ts"].tolist() == ["27/11/2026 10:15", "27/11/2026 10:29"]  # as written
    assert data.rows_outside == 2


def test_times_that_do_not_match_the_declared_format_are_refused(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "all.csv", readings(["27/11/2026 10:15", "2026-11-27T10:20"]))
    source = FileSource(path=file, time_column="ts", time_format="%d/%m/%Y %H:%M")
    with pytest.raises(
        UnusableInput,
        match=r"1 value\(s\) that are not times written '%d/%m/%Y %H:%M' \(source.time_format\), "
        r"e.g. '2026-11-27T10:20' at row 1",
    ):
        source.read(WINDOW)


def test_without_a_declared_format_the_error_says_how_to_declare_one(tmp_path: Path) -> None:
    file = write_csv(tmp_path / "all.csv", readings(["01/01/2015 00:00"]))
    with pytest.raises(UnusableInput, match=r"set source.time_format for another format"):
        FileSource(path=file, time_column="ts").read(WINDOW)


def test_a_declared_time_format_with_an_offset_is_converted_to_utc(tmp_path: Path) -> None:
    file = write_csv(
        tmp_path / "all.csv", readings(["27.11.2026 11:20 +0100", "27.11.2026 10:20 +0100"])
    )
    source = FileSource(path=file, time_column="ts", time_format="%d.%m.%Y %H:%M %z")
    assert source.read(WINDOW).frame["machine"].tolist() == ["m0"]


def test_a_window_of_the_wine_data_with_day_first_dates_reads_exactly_its_rows(
    tmp_path: Path,
) -> None:
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True).frame
    stamps = pd.Timestamp("2026-11-27T10:00") + pd.to_timedelta(range(len(wine)), unit="min")
    wine = wine.assign(
        when=stamps.strftime("%d/%m/%Y %H:%M"),
        cultivar=wine["target"].map({0: "a", 1: "b", 2: "c"}),
    )
    file = write_csv(tmp_path / "wine.csv", wine.drop(columns=["target"]))
    source = FileSource(path=file, time_column="when", time_format="%d/%m/%Y %H:%M")
    data = source.read(WINDOW)
    assert len(data.frame) == 15 and data.rows_outside == len(wine) - 15
    assert data.frame["when"].iloc[0] == "27/11/2026 10:15"
    assert data.frame["cultivar"].tolist() == wine["cultivar"].iloc[15:30].tolist()


def test_a_window_file_that_is_a_directory_is_named_as_one(tmp_path: Path) -> None:
    (tmp_path / "20261127T1015.csv").mkdir()
    with pytest.raises(UnusableInput, match=r"20261127T1015.csv is a directory, not a data file"):
        FileSource(path=tmp_path / "{start:%Y%m%dT%H%M}.csv").read(WINDOW)
