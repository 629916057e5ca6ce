"""`shipml run`, `runs`, `lineage`, `models` and `promote` on a trained project."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipml.cli import app
from shipml.orchestration.locks import PipelineLock
from shipml.project.project import Project

WINDOW = ["--start", "2026-11-27T10:00Z", "--end", "2026-11-27T10:15Z"]


@pytest.fixture
def project(trained_project: Path, tmp_path: Path) -> Path:
    """A copy of the trained toy project (its model stays in the shared registry)."""
    directory = tmp_path / "project"
    shutil.copytree(trained_project, directory, ignore=shutil.ignore_patterns("outputs"))
    return directory


def shipml(*arguments: str) -> tuple[int, str]:
    """Exit code, and stdout for --json (logs go to stderr) or everything printed otherwise."""
    outcome = CliRunner().invoke(app, list(arguments))
    printed = outcome.stdout if "--json" in arguments else outcome.output
    return outcome.exit_code, printed


def test_run_scores_a_window_once_and_runs_lists_it(project: Path) -> None:
    code, output = shipml("run", "--project", str(project), *WINDOW, "--json")
    assert code == 0, output
    [first] = json.loads(output)
    assert first["status"] == "succeeded" and first["rows_out"] == 75

    code, output = shipml("run", "--project", str(project), *WINDOW)
    assert code == 0 and "already succeeded" in output

    code, output = shipml("runs", "--project", str(project), "--json")
    runs = json.loads(output)
    assert [(r["kind"], r["status"]) for r in runs] == [
        ("batch", "succeeded"),
        ("train", "succeeded"),
    ]

    code, output = shipml("lineage", first["run_id"][:10], "--project", str(project), "--json")
    detail = json.loads(output)
    assert detail["run"]["model_version"] == "1" and detail["run"]["data_version"]
    assert [s["step"] for s in detail["steps"]] == ["featurize", "predict"]


def test_a_window_off_the_grid_or_in_american_format_is_refused(project: Path) -> None:
    code, output = shipml("run", "--project", str(project), "--start", "2026-11-27T10:05Z",
                          "--end", "2026-11-27T10:15Z")  # fmt: skip
    assert code == 2 and "not on the 15m window grid" in output
    code, output = shipml("run", "--project", str(project), "--start", "11/27/2026",
                          "--end", "2026-11-27T10:15Z")  # fmt: skip
    assert code == 2 and "ambiguous" in output


def test_a_failed_window_exits_1_and_names_the_problem(project: Path) -> None:
    source = project / "data" / "readings_20261127T1000.csv"
    source.write_text(source.read_text().replace("temperature_c", "temp_c"))
    code, output = shipml("run", "--project", str(project), *WINDOW)
    assert code == 1
    assert "temperature_c" in output


def test_models_lists_versions_and_promote_moves_the_alias(project: Path) -> None:
    code, output = shipml("models", "--project", str(project), "--json")
    [version] = json.loads(output)
    assert version["aliases"] == ["champion"] and "roc_auc" in version["metrics"]
    code, output = shipml("promote", "9", "--project", str(project))
    assert code == 2 and "has no version 9" in output


def test_a_missing_project_is_one_clear_line(tmp_path: Path) -> None:
    code, output = shipml("runs", "--project", str(tmp_path))
    assert code == 2 and "shipml.toml" in output


def test_run_waits_while_another_run_of_the_pipeline_holds_its_lock(project: Path) -> None:
    command = [sys.executable, "-c", "from shipml.cli import app; app()", "run"]
    command += ["--project", str(project), *WINDOW, "--json"]
    with PipelineLock(Project.load(project)).held(threading.Event()):
        waiting = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            _wait_for_line(waiting, "another run of this pipeline holds the file lock", 60)
            time.sleep(1)
            assert waiting.poll() is None
            assert not (project / "outputs").exists()
        except BaseException:
            waiting.kill()
            raise
    stdout, stderr = waiting.communicate(timeout=120)

    assert waiting.returncode == 0, stderr
    [outcome] = json.loads(stdout)
    assert outcome["status"] == "succeeded"


def _wait_for_line(process: subprocess.Popen[str], text: str, timeout: float) -> None:
    """Wait until the process writes a line holding `text` on stderr."""
    stderr = process.stderr
    assert stderr is not None
    found = threading.Event()

    def read() -> None:
        for line in stderr:
            if text in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert found.wait(timeout), f"no line with {text!r} on stderr within {timeout} s"
