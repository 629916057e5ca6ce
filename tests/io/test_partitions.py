"""A window read in partitions gives, once put together, exactly what a whole read gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.datasets import load_diabetes, load_iris, load_wine
from sqlalchemy import create_engine

from shipml.errors import EmptyInput, MissingInput, SourceError, UnusableInput
from shipml.fingerprints import frame_version
from shipml.io import FileSource, SqlSource
from shipml.io.partitions import (
    ParquetPartition,
    PartitionPlan,
    Review,
    SqlPartition,
    data_version,
    plan_partitions,
    read_partition,
    review_reads,
)
from shipml.versioning.lineage import file_version
from shipml.windows import Window

WINDOW = Window(datetime(2026, 3, 2, 10, tzinfo=UTC), datetime(2026, 3, 2, 11, tzinfo=UTC))


def read_in_partitions(source: FileSource | SqlSource, count: int) -> pd.DataFrame:
    """The window read partition by partition (as workers do), put together in order."""
    plan = plan_partitions(source, WINDOW, count=count)
    assert plan is not None and len(plan.partitions) == count
    reads = [read_partition(partition) for partition in plan.partitions]
    review = review_reads(plan, [read.facts() for read in reads])
    assert review.whole is None
    for position, casts in review.casts.items():
        reads[position] = read_partition(plan.partitions[position], casts)
    frames = [read.frame for read in reads]
    assert all(frame is not None for frame in frames)
    return pd.concat(frames, ignore_index=True)


def wine_window() -> pd.DataFrame:
    """The wine data with renamed columns, string classes, and nulls in some rows only."""
    wine = load_wine(as_frame=True)
    frame = wine.data.rename(columns=lambda name: name.replace("/", "_"))
    frame["cultivar"] = [f"class_{target}" for target in wine.target]
    batch = np.arange(len(frame)) // 10
    frame["batch"] = pd.array(batch, dtype="Int64")  # int64 in row groups without a null
    frame["checked"] = pd.array(batch % 2 == 0, dtype="boolean")  # bool, likewise
    frame.loc[150, ["batch", "checked"]] = None
    return frame


def write_plain_parquet(frame: pd.DataFrame, file: Path, row_group_size: int) -> None:
    """Parquet as other tools write it: Arrow types only, no pandas dtypes to restore."""
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, file, row_group_size=row_group_size)


def test_parquet_row_groups_read_apart_give_the_whole_file(tmp_path: Path) -> None:
    source = FileSource(path=str(tmp_path / "wine_{start:%Y%m%dT%H%M}.parquet"))
    write_plain_parquet(wine_window(), source.location(WINDOW), row_group_size=20)

    whole = source.read(WINDOW).frame

    pd.testing.assert_frame_equal(read_in_partitions(source, count=3), whole)
    assert whole["batch"].dtype == "float64" and whole["checked"].dtype == object


@pytest.mark.parametrize("zone", [None, "UTC"], ids=["naive-times", "utc-times"])
def test_a_parquet_file_cut_by_time_reads_only_the_row_groups_of_the_window(
    tmp_path: Path, zone: str | None
) -> None:
    diabetes = load_diabetes(as_frame=True).frame  # 442 rows, one every 30 minutes
    first = WINDOW.start.replace(tzinfo=None) - timedelta(days=4)
    times = pd.date_range(first, periods=len(diabetes), freq="30min")
    diabetes["ts"] = times.tz_localize(zone) if zone else times
    file = tmp_path / "diabetes.parquet"
    diabetes.to_parquet(file, row_group_size=16)
    source = FileSource(path=str(file), time_column="ts")

    plan = plan_partitions(source, WINDOW, count=1)

    assert plan is not None
    [partition] = plan.partitions
    assert isinstance(partition, ParquetPartition) and len(partition.row_groups) == 1
    whole = source.read(WINDOW).frame
    assert len(whole) == 2
    pd.testing.assert_frame_equal(read_in_partitions(source, count=1), whole)


def iris_csv(path: Path) -> Path:
    """Iris with string species, a count with one empty cell, a code that is text late on."""
    iris = load_iris(as_frame=True)
    frame = iris.data.assign(species=iris.target_names[iris.target])
    frame["count"] = np.arange(len(frame))
    frame["code"] = np.arange(len(frame)).astype(str)
    frame = frame.astype({"count": object, "code": object})
    frame.loc[120, "count"] = None  # an int column, float in the whole file
    frame.loc[140, "code"] = "A7"  # a number-looking column, text in the whole file
    frame.to_csv(path, index=False)
    return path


def test_csv_blocks_read_apart_give_the_whole_file_with_its_column_types(
    tmp_path: Path,
) -> None:
    source = FileSource(path=str(tmp_path / "iris_{start:%Y%m%dT%H%M}.csv"))
    iris_csv(source.location(WINDOW))

    whole = source.read(WINDOW).frame

    pd.testing.assert_frame_equal(read_in_partitions(source, count=4), whole)
    assert whole["count"].dtype == "float64" and whole["code"].iloc[0] == "0"


def timed_csv(path: Path, times: list[str]) -> FileSource:
    frame = pd.DataFrame({"ts": times, "reading": np.arange(len(times), dtype=float)})
    frame.to_csv(path, index=False)
    return FileSource(path=str(path), time_column="ts")


def test_a_csv_cut_by_time_keeps_the_windows_rows_from_every_block(tmp_path: Path) -> None:
    times = pd.date_range(WINDOW.start - timedelta(minutes=50), periods=200, freq="min")
    source = timed_csv(tmp_path / "readings.csv", list(times.strftime("%Y-%m-%dT%H:%M:%SZ")))

    whole = source.read(WINDOW).frame

    assert len(whole) == 60
    pd.testing.assert_frame_equal(read_in_partitions(source, count=5), whole)


@pytest.mark.parametrize(
    ("bad", "problem"),
    [("03/02/2026 10:31", "not ISO 8601 times"), ("", "is empty in 1 row")],
    ids=["american-date", "no-time"],
)
def test_bad_times_in_a_later_block_are_refused_as_a_whole_read_refuses_them(
    tmp_path: Path, bad: str, problem: str
) -> None:
    times = list(pd.date_range(WINDOW.start, periods=120, freq="min").strftime("%Y-%m-%dT%H:%M"))
    times[97] = bad
    source = timed_csv(tmp_path / "readings.csv", times)
    plan = plan_partitions(source, WINDOW, count=4)
    assert plan is not None

    with pytest.raises(UnusableInput) as whole:
        source.read(WINDOW)
    with pytest.raises(UnusableInput) as partitioned:
        review_reads(plan, [read_partition(p).facts() for p in plan.partitions])

    assert problem in str(whole.value)
    assert str(partitioned.value) == str(whole.value)


def test_a_quoted_line_break_across_a_cut_asks_for_a_whole_read(tmp_path: Path) -> None:
    notes = ["plain"] * 40
    notes[19] = "first line\n" * 30 + "last line"  # the cut in the middle lands inside it
    file = tmp_path / "notes_{start:%Y%m%dT%H%M}.csv"
    source = FileSource(path=str(file))
    pd.DataFrame({"note": notes, "n": range(40)}).to_csv(source.location(WINDOW), index=False)
    plan = plan_partitions(source, WINDOW, count=2)
    assert plan is not None

    review = review_reads(plan, [read_partition(p).facts() for p in plan.partitions])

    assert review.whole is not None


def test_what_a_whole_read_refuses_is_left_to_it(tmp_path: Path) -> None:
    missing = FileSource(path=str(tmp_path / "none_{start:%Y%m%dT%H%M}.parquet"))
    header_only = FileSource(path=str(tmp_path / "header_{start:%Y%m%dT%H%M}.csv"))
    header_only.location(WINDOW).write_text("a,b\n")

    with pytest.raises(MissingInput):
        plan_partitions(missing, WINDOW)
    assert plan_partitions(header_only, WINDOW) is None


@pytest.fixture
def readings_table(postgres_url: str) -> str:
    """A table of wine readings, one a minute around WINDOW, with a fresh name."""
    wine = load_wine(as_frame=True).frame
    wine["ts"] = pd.date_range(WINDOW.start - timedelta(minutes=30), periods=len(wine), freq="min")
    name = f"readings_{np.random.default_rng().integers(1 << 30)}"
    engine = create_engine(postgres_url)
    wine.to_sql(name, engine, index=False)
    engine.dispose()
    return name


def test_sql_time_ranges_read_apart_give_the_whole_query(
    postgres_url: str, readings_table: str
) -> None:
    query = f"SELECT * FROM {readings_table} WHERE ts >= :start AND ts < :end ORDER BY ts"
    source = SqlSource(url=postgres_url, query=query)

    whole = source.read(WINDOW)
    plan = plan_partitions(source, WINDOW, count=4)
    assert plan is not None and plan.rows == len(whole.frame) == 60
    reads = [read_partition(p) for p in plan.partitions]
    review = review_reads(plan, [read.facts() for read in reads])

    assert review.whole is None and not review.casts
    together = pd.concat([read.frame for read in reads], ignore_index=True)
    pd.testing.assert_frame_equal(together, whole.frame)
    assert data_version(plan, reads).startswith("sha256:")
    assert [read.version for read in reads] == [frame_version(read.frame) for read in reads]
    source.close()


def test_a_query_whose_ranges_overlap_is_refused(postgres_url: str, readings_table: str) -> None:
    query = f"SELECT * FROM {readings_table} WHERE ts BETWEEN :start AND :end ORDER BY ts"
    source = SqlSource(url=postgres_url, query=query)
    plan = plan_partitions(source, WINDOW, count=4)
    assert plan is not None

    with pytest.raises(SourceError, match="add up to 64, not the window's 61"):
        review_reads(plan, [read_partition(p).facts() for p in plan.partitions])
    source.close()


def test_a_file_keeps_its_own_version(tmp_path: Path) -> None:
    source = FileSource(path=str(tmp_path / "wine_{start:%Y%m%dT%H%M}.parquet"))
    wine_window().to_parquet(source.location(WINDOW), row_group_size=50)

    plan = plan_partitions(source, WINDOW)

    assert isinstance(plan, PartitionPlan)
    assert data_version(plan, []) == file_version(source.location(WINDOW))


def test_a_window_of_several_files_is_read_file_by_file(tmp_path: Path) -> None:
    iris = load_iris(as_frame=True)
    frame = iris.data.assign(species=iris.target_names[iris.target])
    source = FileSource(path=str(tmp_path / "iris_{start:%Y%m%dT%H%M}.csv"))
    for number, start in enumerate(range(0, 60, 20)):  # three files in the hour's window
        name = source.location(Window(WINDOW.start + timedelta(minutes=start), WINDOW.end))
        frame.iloc[number * 50 : (number + 1) * 50].to_csv(name, index=False)

    whole = source.read(WINDOW)
    plan = plan_partitions(source, WINDOW, count=2)

    assert plan is not None and len(plan.partitions) == 6 and plan.version == whole.version
    reads = [read_partition(p) for p in plan.partitions]
    assert review_reads(plan, [r.facts() for r in reads]) == Review({})
    together = pd.concat([r.frame for r in reads], ignore_index=True)
    pd.testing.assert_frame_equal(together, whole.frame)


def test_a_window_without_rows_is_refused_as_a_whole_read_refuses_it(tmp_path: Path) -> None:
    times = pd.date_range(WINDOW.end, periods=50, freq="min").strftime("%Y-%m-%dT%H:%M")
    source = timed_csv(tmp_path / "later.csv", list(times))
    plan = plan_partitions(source, WINDOW, count=3)
    assert plan is not None

    with pytest.raises(EmptyInput) as whole:
        source.read(WINDOW)
    with pytest.raises(EmptyInput) as partitioned:
        review_reads(plan, [read_partition(p).facts() for p in plan.partitions])

    assert "none of the 50 row(s)" in str(whole.value)
    assert str(partitioned.value) == str(whole.value)


def test_a_sql_partition_never_shows_its_password() -> None:
    url = "postgresql+psycopg://reader:s3cret@db.example:5432/plant"
    partition = SqlPartition(url, "SELECT 1", WINDOW.start, WINDOW.end, "db", str(WINDOW))

    assert "s3cret" not in repr(partition) and partition.url == url
