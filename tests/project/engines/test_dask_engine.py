"""The Dask engine gives a window the local engine's result, on a cluster of 2 worker processes.

One LocalCluster serves the whole module; each test compares a Dask run of a window of the
toy project with a local run of the same window (`force=True` runs it again).
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _dask_windows import QUARANTINE, WINDOW, break_rows, monitored_model, quarantine_project
from distributed import Client, LocalCluster
from typer.testing import CliRunner

from _projects import SETTINGS, write_project
from shipml.cli import app
from shipml.project.batch import WindowFailed, WindowOutcome, run_window
from shipml.project.engines._worker import model_loads
from shipml.project.engines.dask import DaskEngine
from shipml.project.project import Project
from shipml.windows import Window


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, Client(cluster) as connected:
        yield connected


@pytest.fixture(scope="module")
def engine(client: Client) -> DaskEngine:
    """Four partitions of a 75-row window: rows 0-18, 19-37, 38-56, 57-74."""
    return DaskEngine(client=client, partitions=4)


def test_a_window_with_invalid_rows_gives_the_local_result(
    tmp_path: Path, engine: DaskEngine
) -> None:
    project = quarantine_project(tmp_path)
    break_rows(
        project,
        {
            3: ("temperature_c", 900.0),
            40: ("machine_id", "X-1"),
            41: ("temperature_c", -99.0),
            70: ("ts", "not a date"),
        },
    )
    model = monitored_model(project)
    local = run_window(project, WINDOW, model=model)
    local_output = pd.read_parquet(local.output)
    dask = run_window(project, WINDOW, model=model, engine=engine, force=True)

    assert local.rows_quarantined == 4
    assert _counts(dask) == _counts(local)
    pd.testing.assert_frame_equal(
        pd.read_parquet(dask.output).drop(columns="run_id"), local_output.drop(columns="run_id")
    )
    local_run, dask_run = project.store.run(local.run_id), project.store.run(dask.run_id)
    assert (local_run.run.engine, dask_run.run.engine) == ("local", "dask")
    assert dask_run.validations == local_run.validations
    assert [(s.step, s.rows_in, s.rows_out) for s in dask_run.steps] == [
        (s.step, s.rows_in, s.rows_out) for s in local_run.steps
    ]
    pd.testing.assert_frame_equal(
        project.store.quarantined(dask.run_id), project.store.quarantined(local.run_id)
    )
    local_evaluation, dask_evaluation = _evaluations(project)
    assert local_evaluation["drift"] and local_evaluation["shift"]
    assert dask_evaluation["drift"] == local_evaluation["drift"]
    assert dask_evaluation["shift"] == local_evaluation["shift"]


def test_the_quarantine_limit_applies_to_the_window_not_to_a_partition(
    tmp_path: Path, engine: DaskEngine
) -> None:
    project = quarantine_project(tmp_path)
    break_rows(project, {row: ("temperature_c", 900.0) for row in range(6)})  # 32% of rows 0-18
    model = monitored_model(project)

    local = run_window(project, WINDOW, model=model)
    dask = run_window(project, WINDOW, model=model, engine=engine, force=True)

    assert dask.status == local.status == "succeeded"
    assert _counts(dask) == _counts(local)
    assert dask.rows_quarantined == 6


@pytest.mark.parametrize(
    ("settings", "broken_rows", "reason"),
    [
        (QUARANTINE, range(0, 75, 8), "above the quarantine limit"),  # 10 of 75 rows
        (SETTINGS, [50], "1 of 75 rows invalid"),  # the default policy: fail
    ],
    ids=["over-the-quarantine-limit", "fail-policy"],
)
def test_a_failing_boundary_fails_the_window_where_and_as_the_local_one_does(
    tmp_path: Path, engine: DaskEngine, settings: str, broken_rows: Iterable[int], reason: str
) -> None:
    project = Project.load(write_project(tmp_path, settings=settings))
    break_rows(project, {row: ("temperature_c", 900.0) for row in broken_rows})
    model = monitored_model(project)

    with pytest.raises(WindowFailed) as local:
        run_window(project, WINDOW, model=model)
    with pytest.raises(WindowFailed) as dask:
        run_window(project, WINDOW, model=model, engine=engine)

    assert reason in str(local.value.outcome.error)
    assert dask.value.outcome.error == local.value.outcome.error
    assert dask.value.outcome.reason == local.value.outcome.reason
    counts = ("rows_in", "rows_valid", "rows_invalid")
    assert [getattr(dask.value.outcome, c) for c in counts] == [
        getattr(local.value.outcome, c) for c in counts
    ]
    # the failure is an alert on either engine: opened by the local run, refreshed by Dask's
    [alert] = [a for a in project.store.alerts(pipeline="toy") if a.rule == "window_failed"]
    assert (alert.severity, alert.occurrences, alert.status) == ("critical", 2, "open")
    local_run = project.store.run(local.value.outcome.run_id)
    dask_run = project.store.run(dask.value.outcome.run_id)
    assert dask_run.run.failed_step == local_run.run.failed_step == "featurize"
    assert dask_run.validations == local_run.validations
    assert not project.sink().exists(project.name, WINDOW)


def test_a_step_that_raises_fails_the_window_with_the_workers_traceback(
    tmp_path: Path, engine: DaskEngine
) -> None:
    project = quarantine_project(tmp_path)
    model = monitored_model(project)
    broken = dataclasses.replace(model, model="not a model")

    with pytest.raises(WindowFailed) as local:
        run_window(project, WINDOW, model=broken)
    with pytest.raises(WindowFailed) as dask:
        run_window(project, WINDOW, model=broken, engine=engine)

    assert dask.value.outcome.error == local.value.outcome.error
    assert "AttributeError" in dask.value.outcome.error
    dask_run = project.store.run(dask.value.outcome.run_id)
    assert dask_run.run.failed_step == "predict"
    assert "predict_proba" in dask_run.run.traceback
    assert [s.step for s in dask_run.steps] == ["featurize"]


def test_the_model_is_shipped_to_each_worker_once_for_all_windows(
    tmp_path: Path, client: Client
) -> None:
    project = quarantine_project(tmp_path)
    model = monitored_model(project)
    model.model.shipped_by = tmp_path.name  # a model no worker has seen yet
    later = Window(WINDOW.end, WINDOW.end + (WINDOW.end - WINDOW.start))
    before = client.run(model_loads)

    with DaskEngine(client=client, partitions=4) as engine:
        run_window(project, WINDOW, model=model, engine=engine)
        after_one = client.run(model_loads)
        run_window(project, later, model=model, engine=engine)
        after_two = client.run(model_loads)

    loaded = {worker: after_one[worker] - before[worker] for worker in before}
    assert set(loaded.values()) <= {0, 1} and sum(loaded.values()) >= 1
    assert after_two == after_one


def test_projects_whose_modules_share_names_take_turns_on_the_same_workers(
    tmp_path: Path, engine: DaskEngine
) -> None:
    lenient, strict = tmp_path / "lenient", tmp_path / "strict"
    for root in (lenient, strict):
        root.mkdir()
        write_project(root, settings=QUARANTINE)
    contracts = strict / "contracts.py"
    contracts.write_text(contracts.read_text().replace("le=150", "le=100"))

    quarantined = []
    for root in (lenient, strict, lenient):
        project = Project.load(root)  # imports its own contracts and steps modules
        break_rows(project, {7: ("temperature_c", 120.0)})
        model = monitored_model(project)
        local = run_window(project, WINDOW, model=model, force=True)
        dask = run_window(project, WINDOW, model=model, engine=engine, force=True)
        assert _counts(dask) == _counts(local)
        quarantined.append(dask.rows_quarantined)

    assert quarantined[0] == quarantined[2] < quarantined[1]


def test_shipml_run_scores_a_window_on_the_given_scheduler(
    trained_project: Path, tmp_path: Path, client: Client
) -> None:
    directory = tmp_path / "project"
    shutil.copytree(trained_project, directory, ignore=shutil.ignore_patterns("outputs"))

    ran = CliRunner().invoke(
        app,
        [
            "run", "--project", str(directory),
            "--start", WINDOW.start.isoformat(), "--end", WINDOW.end.isoformat(),
            "--engine", "dask", "--scheduler-address", client.scheduler.address,
        ],
    )  # fmt: skip

    assert ran.exit_code == 0, ran.output
    [record] = Project.load(directory).store.runs(kind="batch")
    assert (record.engine, record.status, record.rows_out) == ("dask", "succeeded", 75)


def test_shipml_run_refuses_a_scheduler_address_for_the_local_engine(tmp_path: Path) -> None:
    quarantine_project(tmp_path)

    ran = CliRunner().invoke(
        app,
        [
            "run", "--project", str(tmp_path),
            "--engine", "local", "--scheduler-address", "tcp://127.0.0.1:8786",
        ],
    )  # fmt: skip

    assert ran.exit_code == 2
    assert "a scheduler address is for the dask engine" in ran.output


def _counts(outcome: WindowOutcome) -> tuple[int, ...]:
    return (outcome.rows_in, outcome.rows_valid, outcome.rows_quarantined, outcome.rows_out)


def _evaluations(project: Project) -> list[dict[str, Any]]:
    """The stored evaluations of the project's windows, oldest run first."""
    records = project.store.profiles(project.name, "batch", "evaluation")
    return [r.payload for r in sorted(records, key=lambda r: r.created_at)]
