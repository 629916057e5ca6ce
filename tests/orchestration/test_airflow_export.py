"""`shipml airflow export`: the DAG file written for a project."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _projects import SETTINGS, write_project
from shipml.cli import app
from shipml.orchestration.airflow import export_dag, render_dag
from shipml.project.project import Project


def _literal(source: str, name: str) -> object:
    """The value of a module-level `NAME = <literal>` in a DAG file."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == [name]:  # type: ignore[attr-defined]
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not assigned in the DAG file")


def test_the_dag_runs_the_batch_window_function_on_the_project(tmp_path: Path) -> None:
    project = Project.load(write_project(tmp_path))

    source = render_dag(project)

    compile(source, "shipml_toy.py", "exec")
    assert _literal(source, "PROJECT_DIR") == str(tmp_path.resolve())
    assert "from airflow.sdk import DeltaTriggerTimetable, dag, task" in source
    assert "schedule=DeltaTriggerTimetable(timedelta(seconds=900))" in source
    assert "project = Project.load(PROJECT_DIR)" in source
    assert 'outcome = run_window(project, window, trigger="airflow")' in source
    assert '"retries": 3' in source  # schedule.missing_input_retries
    assert '"retry_delay": timedelta(seconds=60)' in source  # schedule.missing_input_backoff
    assert 'dag_id="shipml_toy"' in source


def test_a_cron_schedule_becomes_a_cron_trigger_timetable_in_its_time_zone(tmp_path: Path) -> None:
    settings = SETTINGS.replace('every = "15m"', 'cron = "5 * * * *"\ntimezone = "Europe/Paris"')
    project = Project.load(write_project(tmp_path, settings=settings))

    source = render_dag(project)

    compile(source, "shipml_toy.py", "exec")
    assert 'schedule=CronTriggerTimetable("5 * * * *", timezone="Europe/Paris")' in source
    assert _literal(source, "SCHEDULE") == "cron '5 * * * *' (Europe/Paris)"


def test_the_split_dag_has_a_task_per_step_group(tmp_path: Path) -> None:
    project = Project.load(write_project(tmp_path))

    source = render_dag(project, split=True)

    compile(source, "shipml_toy.py", "exec")
    assert _literal(source, "GROUPS") == ("prepare", "score")
    assert 'staging.publish_window(project, window, trigger="airflow")' in source


def test_the_command_writes_the_dag_file(tmp_path: Path) -> None:
    write_project(tmp_path)
    out = tmp_path / "dags"

    result = CliRunner().invoke(
        app, ["airflow", "export", "--project", str(tmp_path), "--out", str(out), "--split"]
    )

    assert result.exit_code == 0, result.output
    assert f"wrote DAG shipml_toy to {out / 'shipml_toy.py'}" in result.output
    assert 'GROUPS = ("prepare", "score")' in (out / "shipml_toy.py").read_text()


def test_an_unwritable_destination_is_one_clear_error(tmp_path: Path) -> None:
    write_project(tmp_path)
    blocker = tmp_path / "dags"
    blocker.write_text("a file, not a directory")

    result = CliRunner().invoke(
        app, ["airflow", "export", "--project", str(tmp_path), "--out", str(blocker)]
    )

    assert result.exit_code == 1
    assert "cannot write" in result.output and "Traceback" not in result.output


def test_the_start_date_must_be_a_window_bound(tmp_path: Path) -> None:
    write_project(tmp_path)
    arguments = ["airflow", "export", "--project", str(tmp_path), "--out", str(tmp_path / "d")]

    on_grid = CliRunner().invoke(app, [*arguments, "--start", "2026-11-27T10:15Z"])
    off_grid = CliRunner().invoke(app, [*arguments, "--start", "2026-11-27T10:20Z"])

    assert on_grid.exit_code == 0, on_grid.output
    source = (tmp_path / "d" / "shipml_toy.py").read_text()
    assert 'datetime.fromisoformat("2026-11-27T10:15:00+00:00")' in source
    assert off_grid.exit_code == 1
    assert "the one before it is 2026-11-27T10:15:00+00:00" in off_grid.output


@pytest.mark.parametrize("split", [False, True])
def test_the_dag_file_is_clean_python(tmp_path: Path, split: bool) -> None:
    project = Project.load(write_project(tmp_path))
    dag_file = export_dag(project, tmp_path / "dags", split=split).path
    ruff = Path(sys.executable).parent / "ruff"

    checks = [
        subprocess.run([ruff, *command, "--isolated", str(dag_file)], capture_output=True)
        for command in (["check"], ["format", "--check"])
    ]

    assert [c.returncode for c in checks] == [0, 0], [c.stdout for c in checks]


LABELS = """
[labels]
key = ["id"]

[labels.source]
kind = "files"
path = "labels.csv"
time_column = "ts"
"""


@pytest.mark.parametrize("split", [False, True])
def test_with_a_label_source_the_dag_ingests_labels_after_the_window(
    tmp_path: Path, split: bool
) -> None:
    project = Project.load(write_project(tmp_path, settings=SETTINGS + LABELS))

    source = render_dag(project, split=split)

    compile(source, "shipml_toy.py", "exec")
    assert "def labels_ingest(**context: object)" in source
    assert "found = ingest_due(project, window.end)" in source
    assert (
        ">> publish() >> labels_ingest()" if split else "batch_window() >> labels_ingest()"
    ) in (source)
    plain = tmp_path / "plain"
    plain.mkdir()
    assert "labels_ingest" not in render_dag(Project.load(write_project(plain)))
