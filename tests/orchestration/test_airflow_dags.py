"""The exported DAGs run by a real Airflow 3 (`airflow dags test`), in its own virtualenv."""

from __future__ import annotations

from pathlib import Path

import pytest
from _airflow import Airflow, airflow_environment

from shipml.orchestration.airflow import export_dag
from shipml.orchestration.staging import stage_directory
from shipml.project.project import Project
from shipml.windows import Window, parse_datetime

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

DAY_START = parse_datetime("2026-11-27T00:00Z")  # the DAGs' start date, before the toy windows
LOGICAL_DATE = "2026-11-27T10:15:00+00:00"  # the run that scores the window ending then
WINDOW = Window(parse_datetime("2026-11-27T10:00Z"), parse_datetime("2026-11-27T10:15Z"))
RUN_TIMEOUT = 600


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Airflow:
    """A migrated Airflow home for this module's tests."""
    installation = Airflow(airflow_environment(), tmp_path_factory.mktemp("airflow-home"))
    migrated = installation.run("db", "migrate", dags=installation.home, timeout=RUN_TIMEOUT)
    assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
    return installation


def _dags_test(
    airflow: Airflow, dags: Path, logical_date: str = LOGICAL_DATE, *, succeeds: bool = True
) -> str:
    """`airflow dags test shipml_toy <date>` (it exits 1 when the DAG run fails); its output."""
    ran = airflow.run("dags", "test", "shipml_toy", logical_date, dags=dags, timeout=RUN_TIMEOUT)
    output = ran.stdout + ran.stderr
    assert ran.returncode == (0 if succeeds else 1), output[-5000:]
    return output


def test_the_dag_scores_the_window_once(airflow: Airflow, toy: Path, tmp_path: Path) -> None:
    project = Project.load(toy)
    dags = tmp_path / "dags"
    export_dag(project, dags, start=DAY_START)

    _dags_test(airflow, dags)

    [run] = project.store.runs(pipeline="toy", kind="batch")
    assert (run.status, run.window_start, run.window_end) == ("succeeded", WINDOW.start, WINDOW.end)
    output = Path(run.output or "")
    assert output.is_file() and output.name == f"{WINDOW.key}.parquet"
    written_at = output.stat().st_mtime_ns

    _dags_test(airflow, dags)  # the same window again: nothing to do

    assert [r.id for r in project.store.runs(pipeline="toy", kind="batch")] == [run.id]
    assert output.stat().st_mtime_ns == written_at


def test_missing_input_fails_the_task_and_opens_an_alert(
    airflow: Airflow, toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIPML_SCHEDULE__MISSING_INPUT_RETRIES", "0")  # the only try is the last
    project = Project.load(toy)
    dags = tmp_path / "dags"
    export_dag(project, dags, start=DAY_START)

    no_input = "2026-11-27T11:00:00+00:00"  # the window 10:45-11:00 has no input file
    output = _dags_test(airflow, dags, no_input, succeeds=False)

    assert "does not exist" in output and "DagRun failed" in output
    [run] = project.store.runs(pipeline="toy", kind="batch")
    assert run.status == "failed"
    [alert] = [a for a in project.store.alerts(pipeline="toy") if a.rule == "missing_input"]
    assert (alert.status, alert.severity, alert.run_id) == ("open", "critical", run.id)


def test_the_split_dag_hands_files_between_its_tasks(
    airflow: Airflow, toy: Path, tmp_path: Path
) -> None:
    project = Project.load(toy)
    dags = tmp_path / "dags"
    export_dag(project, dags, split=True, start=DAY_START)

    output = _dags_test(airflow, dags)

    for task in ("stage", "prepare", "score", "publish"):
        assert f"task_id={task}" in output
    [run] = project.store.runs(pipeline="toy", kind="batch")
    assert run.status == "succeeded" and Path(run.output or "").is_file()
    assert [s.step for s in project.store.run(run.id).steps] == ["featurize", "predict"]
    assert not stage_directory(project, WINDOW).exists()
