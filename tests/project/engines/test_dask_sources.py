"""Dask workers read their own partitions of every source kind; the window is the local one's.

Each test runs a window of the toy project locally, then again (`force=True`) on a cluster of
2 worker processes whose workers read the source in partitions (Parquet row groups, CSV
blocks of one file cut by time, SQL time ranges) and write the output in parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from _dask_windows import (
    QUARANTINE,
    WINDOW,
    assert_same_window,
    break_rows,
    monitored_model,
    quarantine_project,
)
from distributed import Client, LocalCluster
from sqlalchemy import create_engine

from _projects import write_project
from shipml.project.batch import WindowFailed, run_window
from shipml.project.engines.dask import DaskEngine
from shipml.project.project import Project

PARTITION_ROWS = 20  # the 75-row window in 4 partitions


@pytest.fixture(scope="module")
def engine() -> Iterator[DaskEngine]:
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, Client(cluster) as client:
        yield DaskEngine(client=client, partition_rows=PARTITION_ROWS)


def window_rows(project: Project) -> pd.DataFrame:
    return pd.read_csv(project.root / "data" / f"readings_{WINDOW.start:%Y%m%dT%H%M}.csv")


def test_a_parquet_window_is_read_by_row_groups(tmp_path: Path, engine: DaskEngine) -> None:
    settings = QUARANTINE.replace("readings_{start:%Y%m%dT%H%M}.csv", "w_{start:%Y%m%dT%H%M}.pq")
    project = Project.load(write_project(tmp_path, settings=settings))
    break_rows(project, {5: ("temperature_c", 900.0), 66: ("temperature_c", -99.0)})
    rows = window_rows(project).assign(ts=lambda f: pd.to_datetime(f["ts"], utc=True))
    rows.to_parquet(tmp_path / "data" / f"w_{WINDOW.start:%Y%m%dT%H%M}.pq", row_group_size=10)
    model = monitored_model(project)

    local = run_window(project, WINDOW, model=model)
    dask = run_window(project, WINDOW, model=model, engine=engine, force=True)

    assert local.rows_quarantined == 2
    assert len(list(Path(str(dask.output)).iterdir())) == 4  # one part per partition
    assert_same_window(project, local.run_id, dask.run_id)


def one_csv_cut_by_time(tmp_path: Path) -> Project:
    """The toy project reading its windows out of one CSV file with the rows of both."""
    settings = QUARANTINE.replace(
        'path = "data/readings_{start:%Y%m%dT%H%M}.csv"',
        'path = "data/all.csv"\ntime_column = "ts"',
    )
    project = quarantine_project(tmp_path)
    later = WINDOW.start + timedelta(minutes=15)
    frames = [window_rows(project)]
    frames.append(pd.read_csv(tmp_path / "data" / f"readings_{later:%Y%m%dT%H%M}.csv"))
    pd.concat(frames).to_csv(tmp_path / "data" / "all.csv", index=False)
    (tmp_path / "shipml.toml").write_text(settings)
    return Project.load(tmp_path)


def test_one_csv_cut_by_time_is_read_in_blocks(tmp_path: Path, engine: DaskEngine) -> None:
    project = one_csv_cut_by_time(tmp_path)
    model = monitored_model(project)

    local = run_window(project, WINDOW, model=model)
    dask = run_window(project, WINDOW, model=model, engine=engine, force=True)

    assert local.rows_in == 75
    assert_same_window(project, local.run_id, dask.run_id)


def test_american_dates_in_a_later_block_fail_the_window_as_locally(
    tmp_path: Path, engine: DaskEngine
) -> None:
    project = one_csv_cut_by_time(tmp_path)
    rows = pd.read_csv(tmp_path / "data" / "all.csv")
    rows.loc[120, "ts"] = "11/27/2026 10:24"
    rows.to_csv(tmp_path / "data" / "all.csv", index=False)
    model = monitored_model(project)

    with pytest.raises(WindowFailed) as local:
        run_window(project, WINDOW, model=model)
    with pytest.raises(WindowFailed) as dask:
        run_window(project, WINDOW, model=model, engine=engine)

    assert "'11/27/2026 10:24' at row 120" in str(local.value.outcome.error)
    assert dask.value.outcome.error == local.value.outcome.error
    assert not project.sink().exists(project.name, WINDOW)
    assert list((project.root / "outputs" / "toy").iterdir()) == []  # no parts left behind


def test_a_sql_window_is_read_in_time_ranges(
    tmp_path: Path, engine: DaskEngine, postgres_url: str
) -> None:
    project = quarantine_project(tmp_path)
    rows = window_rows(project).assign(ts=lambda f: pd.to_datetime(f["ts"], utc=True))
    rows.loc[[9, 50], "temperature_c"] = 500.0
    table = f"readings_{tmp_path.name.replace('-', '_')[-40:]}"
    database = create_engine(postgres_url)
    rows.to_sql(table, database, index=False)
    database.dispose()
    query = f"SELECT * FROM {table} WHERE ts >= :start AND ts < :end ORDER BY ts, machine_id"
    settings = QUARANTINE.replace(
        'kind = "files"\npath = "data/readings_{start:%Y%m%dT%H%M}.csv"',
        f'kind = "sql"\nurl = "{postgres_url}"\nquery = "{query}"',
    )
    (tmp_path / "shipml.toml").write_text(settings)
    project = Project.load(tmp_path)
    model = monitored_model(project)

    local = run_window(project, WINDOW, model=model)
    dask = run_window(project, WINDOW, model=model, engine=engine, force=True)

    assert local.rows_quarantined == 2
    assert_same_window(project, local.run_id, dask.run_id)


def test_an_sql_output_is_written_by_the_client_as_locally(
    tmp_path: Path, engine: DaskEngine, postgres_url: str
) -> None:
    table = f"scored_{tmp_path.name.replace('-', '_')[-40:]}"
    settings = QUARANTINE + f'\n[output]\nkind = "sql"\nurl = "{postgres_url}"\ntable = "{table}"\n'
    project = Project.load(write_project(tmp_path, settings=settings))
    break_rows(project, {30: ("temperature_c", 900.0)})
    model = monitored_model(project)
    database = create_engine(postgres_url)
    query = f"SELECT * FROM {table} ORDER BY machine_id, ts"

    local = run_window(project, WINDOW, model=model)
    local_rows = pd.read_sql(query, database).drop(columns="run_id")
    dask = run_window(project, WINDOW, model=model, engine=engine, force=True)
    dask_rows = pd.read_sql(query, database).drop(columns="run_id")
    database.dispose()

    assert (local.rows_out, dask.rows_out) == (74, 74)
    pd.testing.assert_frame_equal(dask_rows, local_rows)
