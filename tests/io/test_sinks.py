"""Output sinks: exactly one output per (pipeline, window), written atomically."""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, text

from shipml.config import load_settings
from shipml.errors import SinkError
from shipml.io.sinks import ORPHAN_AGE_SECONDS, ParquetSink, SqlSink
from shipml.windows import Window

FIRST = Window(
    datetime(2026, 11, 27, 10, 15, tzinfo=UTC), datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
)
SECOND = Window(
    datetime(2026, 11, 27, 10, 30, tzinfo=UTC), datetime(2026, 11, 27, 10, 45, tzinfo=UTC)
)
THIRD = Window(
    datetime(2026, 11, 27, 10, 45, tzinfo=UTC), datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
)


def predictions(count: int, base: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {"machine_id": [f"m{i}" for i in range(count)], "score": [base + i for i in range(count)]}
    )


def test_parquet_sink_writes_one_file_per_window(tmp_path: Path) -> None:
    sink = ParquetSink(path=tmp_path / "outputs")
    location = sink.write(predictions(3), pipeline="sensors", window=FIRST, run_id="run-1")

    assert location == str(tmp_path / "outputs" / "sensors" / "20261127T1015Z.parquet")
    expected = predictions(3).assign(run_id="run-1")
    pd.testing.assert_frame_equal(pd.read_parquet(location), expected, check_dtype=False)
    metadata = pq.read_schema(location).metadata
    assert metadata[b"shipml.run_id"] == b"run-1"
    assert metadata[b"shipml.window_start"] == b"2026-11-27T10:15:00+00:00"
    assert metadata[b"shipml.window_end"] == b"2026-11-27T10:30:00+00:00"
    assert sink.exists("sensors", FIRST)
    assert not sink.exists("sensors", SECOND)
    assert not sink.exists("other", FIRST)


def test_parquet_sink_rewrite_replaces_the_windows_file(tmp_path: Path) -> None:
    sink = ParquetSink(path=tmp_path)
    sink.write(predictions(3), pipeline="sensors", window=FIRST, run_id="run-1")
    location = sink.write(predictions(5, 10.0), pipeline="sensors", window=FIRST, run_id="run-2")

    expected = predictions(5, 10.0).assign(run_id="run-2")
    pd.testing.assert_frame_equal(pd.read_parquet(location), expected, check_dtype=False)
    assert pq.read_schema(location).metadata[b"shipml.run_id"] == b"run-2"
    assert sorted(path.name for path in (tmp_path / "sensors").iterdir()) == [
        "20261127T1015Z.parquet"
    ]


def test_parquet_sink_keeps_an_empty_output(tmp_path: Path) -> None:
    sink = ParquetSink(path=tmp_path)
    location = sink.write(predictions(0), pipeline="sensors", window=FIRST, run_id="run-1")
    assert sink.exists("sensors", FIRST)
    assert list(pd.read_parquet(location).columns) == ["machine_id", "score", "run_id"]


@pytest.mark.parametrize("name", ["../escape", "a/b", "", ".hidden", "with space"])
def test_parquet_sink_refuses_a_pipeline_name_that_is_not_a_directory_name(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(SinkError, match="cannot name an output directory"):
        ParquetSink(path=tmp_path).write(predictions(1), pipeline=name, window=FIRST, run_id="r")


def test_a_writer_killed_mid_write_leaves_a_whole_file(tmp_path: Path) -> None:
    sink = ParquetSink(path=tmp_path)
    target = sink.write(predictions(10), pipeline="sensors", window=FIRST, run_id="before")
    writer = textwrap.dedent(
        f"""
        from datetime import datetime, UTC
        import numpy as np, pandas as pd
        from shipml.io.sinks import ParquetSink
        from shipml.windows import Window
        window = Window(datetime(2026, 11, 27, 10, 15, tzinfo=UTC),
                        datetime(2026, 11, 27, 10, 30, tzinfo=UTC))
        frame = pd.DataFrame({{"score": np.random.default_rng(0).random(1_000_000)}})
        print("ready", flush=True)
        for attempt in range(1_000):
            ParquetSink(path={str(tmp_path)!r}).write(
                frame, pipeline="sensors", window=window, run_id=f"during-{{attempt}}"
            )
        """
    )
    process = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        time.sleep(0.5)  # let it rewrite the file a few times, then kill it mid-way
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        process.kill()

    run_id = pq.read_schema(target).metadata[b"shipml.run_id"].decode()
    rows = len(pd.read_parquet(target))
    assert (run_id, rows) == ("before", 10) or (run_id.startswith("during-") and rows == 1_000_000)
    visible = [
        path.name for path in (tmp_path / "sensors").iterdir() if not path.name.startswith(".")
    ]
    assert visible == ["20261127T1015Z.parquet"]


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A PostgreSQL test database or a SQLite file."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'outputs.db'}"


@pytest.fixture
def sql_sink(database_url: str) -> Iterator[SqlSink]:
    """A SQL sink on a table of its own, dropped afterwards."""
    table = f"predictions_{uuid.uuid4().hex[:8]}"
    sink = SqlSink(url=database_url, table=table)
    yield sink
    sink.close()
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(f"drop table if exists {table}"))
    engine.dispose()


def rows_of(sink: SqlSink, database_url: str) -> pd.DataFrame:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        frame = pd.read_sql(
            text(f"select * from {sink.table} order by window_start, machine_id"), connection
        )
    engine.dispose()
    return frame


def test_sql_sink_creates_the_table_and_tags_rows(sql_sink: SqlSink, database_url: str) -> None:
    assert not sql_sink.exists("sensors", FIRST)
    location = sql_sink.write(predictions(3), pipeline="sensors", window=FIRST, run_id="run-1")

    assert location.endswith(f"table {sql_sink.table}")
    stored = rows_of(sql_sink, database_url)
    assert list(stored.columns) == ["pipeline", "window_start", "run_id", "machine_id", "score"]
    assert stored["pipeline"].tolist() == ["sensors"] * 3
    assert stored["run_id"].tolist() == ["run-1"] * 3
    assert stored["score"].tolist() == [0.0, 1.0, 2.0]
    assert pd.to_datetime(stored["window_start"], utc=True).unique().tolist() == [FIRST.start]
    assert sql_sink.exists("sensors", FIRST)
    assert not sql_sink.exists("sensors", SECOND)


def test_sql_sink_rewrite_replaces_only_that_windows_rows(
    sql_sink: SqlSink, database_url: str
) -> None:
    sql_sink.write(predictions(3), pipeline="sensors", window=FIRST, run_id="run-1")
    sql_sink.write(predictions(2, 100.0), pipeline="sensors", window=SECOND, run_id="run-2")
    sql_sink.write(predictions(2, 500.0), pipeline="other", window=FIRST, run_id="run-3")
    sql_sink.write(predictions(4, 10.0), pipeline="sensors", window=FIRST, run_id="run-4")

    stored = rows_of(sql_sink, database_url)
    counts = stored.groupby(["pipeline", "run_id"]).size().to_dict()
    assert counts == {("other", "run-3"): 2, ("sensors", "run-2"): 2, ("sensors", "run-4"): 4}
    first = stored[(stored["pipeline"] == "sensors") & (stored["run_id"] == "run-4")]
    assert first["score"].tolist() == [10.0, 11.0, 12.0, 13.0]


def test_sql_sink_empty_output_clears_the_window(sql_sink: SqlSink, database_url: str) -> None:
    sql_sink.write(predictions(3), pipeline="sensors", window=FIRST, run_id="run-1")
    sql_sink.write(predictions(0), pipeline="sensors", window=FIRST, run_id="run-2")
    assert rows_of(sql_sink, database_url).empty
    assert not sql_sink.exists("sensors", FIRST)


def test_an_empty_first_window_does_not_fix_the_tables_column_types(
    sql_sink: SqlSink, database_url: str
) -> None:
    sql_sink.write(predictions(0), pipeline="sensors", window=FIRST, run_id="run-1")
    sql_sink.write(predictions(2), pipeline="sensors", window=SECOND, run_id="run-2")
    assert sql_sink.exists("sensors", SECOND)
    assert not sql_sink.exists("sensors", FIRST)
    assert len(rows_of(sql_sink, database_url)) == 2


def test_a_failed_sql_write_keeps_the_previous_rows(sql_sink: SqlSink, database_url: str) -> None:
    sql_sink.write(predictions(3), pipeline="sensors", window=FIRST, run_id="run-1")
    unexpected = predictions(2).assign(extra=[1, 2])
    with pytest.raises(SinkError, match=r"has no column\(s\) \['extra'\]"):
        sql_sink.write(unexpected, pipeline="sensors", window=FIRST, run_id="run-2")
    assert rows_of(sql_sink, database_url)["run_id"].tolist() == ["run-1"] * 3


def test_a_rejected_insert_rolls_back_the_delete(postgres_url: str) -> None:
    sink = SqlSink(url=postgres_url, table=f"predictions_{uuid.uuid4().hex[:8]}")
    try:
        sink.write(predictions(3), pipeline="sensors", window=FIRST, run_id="run-1")
        wrong_type = predictions(2).assign(score=["high", "low"])
        with pytest.raises(SinkError) as caught:
            sink.write(wrong_type, pipeline="sensors", window=FIRST, run_id="run-2")
        assert "\n" not in str(caught.value)
        assert "writing window [2026-11-27T10:15:00Z" in str(caught.value)
        stored = rows_of(sink, postgres_url)
        assert stored["run_id"].tolist() == ["run-1"] * 3
    finally:
        sink.close()


def test_sql_sink_refuses_columns_it_adds_itself(sql_sink: SqlSink) -> None:
    with pytest.raises(SinkError, match=r"already has column\(s\) \['run_id'\]"):
        sql_sink.write(
            predictions(1).assign(run_id="x"), pipeline="sensors", window=THIRD, run_id="r"
        )


def test_sink_from_settings_defaults_to_parquet_under_the_project(tmp_path: Path) -> None:
    (tmp_path / "shipml.toml").write_text('[project]\nname = "p"\n')
    sink = load_settings(tmp_path).output
    assert isinstance(sink, ParquetSink)
    location = sink.write(predictions(1), pipeline="p", window=FIRST, run_id="r")
    assert location == str(tmp_path.resolve() / "outputs" / "p" / "20261127T1015Z.parquet")


def test_sink_from_settings_builds_a_sql_sink(tmp_path: Path) -> None:
    (tmp_path / "shipml.toml").write_text(
        '[project]\nname = "p"\n'
        '[output]\nkind = "sql"\nurl = "sqlite:///out.db"\ntable = "scores"\n'
    )
    sink = load_settings(tmp_path).output
    assert isinstance(sink, SqlSink)
    try:
        sink.write(predictions(2), pipeline="p", window=FIRST, run_id="r")
        assert sink.exists("p", FIRST)
    finally:
        sink.close()
    assert (tmp_path / "out.db").is_file()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_parquet_outputs_get_the_mode_the_umask_gives(
    tmp_path: Path, umask: int, mode: int
) -> None:
    previous = os.umask(umask)
    try:
        location = ParquetSink(path=tmp_path).write(
            predictions(2), pipeline="sensors", window=FIRST, run_id="run-1"
        )
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(location).st_mode) == mode


def orphan_of_a_killed_writer(directory: Path) -> Path:
    """Kill a process while it writes a window's output; the temporary file it leaves."""
    writer = textwrap.dedent(
        f"""
        from datetime import datetime, UTC
        import numpy as np, pandas as pd
        from shipml.io.sinks import ParquetSink
        from shipml.windows import Window
        window = Window(datetime(2026, 11, 27, 10, 15, tzinfo=UTC),
                        datetime(2026, 11, 27, 10, 30, tzinfo=UTC))
        frame = pd.DataFrame({{"score": np.random.default_rng(0).random(2_000_000)}})
        print("ready", flush=True)
        while True:
            ParquetSink(path={str(directory)!r}).write(
                frame, pipeline="sensors", window=window, run_id="during"
            )
        """
    )
    for _ in range(20):
        process = subprocess.Popen(
            [sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True
        )
        try:
            assert process.stdout is not None and process.stdout.readline() == "ready\n"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not list((directory / "sensors").glob(".*.tmp")):
                time.sleep(0.01)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            process.kill()
        left = list((directory / "sensors").glob(".*.tmp"))
        if left:
            return left[0]
    raise AssertionError("the writer was never killed during a write")


def test_a_later_write_removes_what_a_killed_writer_left(tmp_path: Path) -> None:
    orphan = orphan_of_a_killed_writer(tmp_path)
    assert orphan.name.startswith(".20261127T1015Z.parquet.")
    sink = ParquetSink(path=tmp_path)

    sink.write(predictions(1), pipeline="sensors", window=SECOND, run_id="soon-after")
    assert orphan.exists()  # just left: its writer may be alive and slow, so it stays a while

    aged = time.time() - ORPHAN_AGE_SECONDS - 1
    os.utime(orphan, (aged, aged))
    sink.write(predictions(1), pipeline="sensors", window=THIRD, run_id="later")
    assert not orphan.exists()
    assert not list((tmp_path / "sensors").glob(".*.tmp"))
    assert sink.exists("sensors", SECOND) and sink.exists("sensors", THIRD)


def test_a_temporary_file_still_being_written_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "sensors").mkdir()
    writing = tmp_path / "sensors" / ".20261127T1015Z.parquet.abc123.tmp"
    with writing.open("wb") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # as a live writer holds it
        aged = time.time() - ORPHAN_AGE_SECONDS - 1
        os.utime(writing, (aged, aged))
        ParquetSink(path=tmp_path).write(
            predictions(1), pipeline="sensors", window=SECOND, run_id="r"
        )
        assert writing.exists()
