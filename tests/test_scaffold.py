"""`shipml init` makes a project that passes its own tests, trains and runs a window; with DVC,
each training run records the md5 of the data it was trained on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from shipml.cli import app
from shipml.errors import ScaffoldError
from shipml.project.batch import run_window
from shipml.project.project import Project
from shipml.project.training import train
from shipml.scaffold import WINDOW_START, init_project
from shipml.windows import Window

DVC = [sys.executable, "-m", "dvc"]


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command in `cwd` (with this Python's scripts, like `shipml`, on PATH)."""
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DVC_NO_ANALYTICS": "1",
        **{f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
           for what, value in (("NAME", "t"), ("EMAIL", "t@t"))},
    }  # fmt: skip
    completed = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=240
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def test_a_new_project_passes_its_own_tests(tmp_path: Path) -> None:
    project = init_project(tmp_path / "churn", "churn")
    assert {p.name for p in project.iterdir()} >= {
        "shipml.toml", "contracts.py", "steps.py", "pipeline.py", "dvc.yaml", "data", "tests"
    }  # fmt: skip
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert "passed" in result.stdout


@pytest.mark.parametrize(
    ("task", "label", "outputs"),
    [
        ("binary", "converted", {"converted", "probability"}),
        (
            "multiclass",
            "plan",
            {"plan", "probability_basic", "probability_plus", "probability_premium"},
        ),
        ("regression", "spend", {"spend"}),
    ],
)
def test_each_task_makes_a_project_that_trains_and_scores_a_window(
    tmp_path: Path, task: str, label: str, outputs: set[str]
) -> None:
    directory = init_project(tmp_path / task, task, task)  # type: ignore[arg-type]
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], directory)
    assert "passed" in result.stdout and "failed" not in result.stdout
    project = Project.load(directory)

    trained = train(project)
    project.tracker.promote(trained.model.version)
    scored = run_window(project, Window(WINDOW_START, WINDOW_START + timedelta(minutes=15)))

    assert trained.task == task
    frame = pd.read_parquet(scored.output)
    assert len(frame) == 60 and set(frame.columns) >= {"id", "ts", *outputs}
    if task == "multiclass":
        assert set(frame[label]) <= {"basic", "plus", "premium"}
        assert trained.metrics["accuracy"] > 0.5 and "recall.premium" in trained.metrics


def test_init_refuses_an_unknown_task(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(app, ["init", "x", "--dir", str(tmp_path / "x"), "--task", "rank"])
    assert outcome.exit_code == 2
    assert "task 'rank': expected one of binary, multiclass, regression" in outcome.output


def test_a_committed_new_project_records_clean_runs(tmp_path: Path) -> None:
    """What training and runs write stays out of `git add -A`: later runs are not dirty."""
    directory = init_project(tmp_path / "churn", "churn")
    project = Project.load(directory)
    window = Window(WINDOW_START, WINDOW_START + timedelta(minutes=15))
    project.tracker.promote(train(project).model.version)
    run_window(project, window)
    run(["git", "init", "-q"], directory)
    run(["git", "add", "-A"], directory)
    run(["git", "commit", "-qm", "a new project"], directory)

    project.tracker.promote(train(project).model.version)
    run_window(project, window, force=True)

    assert run(["git", "status", "--porcelain"], directory).stdout == ""
    committed = run(["git", "ls-files"], directory).stdout.split()
    assert ".gitignore" in committed and "shipml.toml" in committed
    assert not [f for f in committed if f.startswith((".shipml/", "outputs/"))]
    runs = project.store.runs()
    assert [(r.kind, r.git_dirty) for r in runs] == [
        ("batch", False), ("train", False), ("batch", None), ("train", None)
    ]  # fmt: skip
    head = run(["git", "rev-parse", "HEAD"], directory).stdout.strip()
    assert {r.git_commit for r in runs[:2]} == {head}


def test_init_refuses_a_bad_name_or_a_directory_in_use(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="lowercase letters"):
        init_project(tmp_path / "x", "My Project")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    outcome = CliRunner().invoke(app, ["init", "busy", "--dir", str(tmp_path / "busy")])
    assert outcome.exit_code == 2 and "not empty" in outcome.output


def test_dvc_tracked_data_versions_every_training_run(tmp_path: Path) -> None:
    directory = init_project(tmp_path / "churn", "churn")
    run(["git", "init", "-q"], directory)
    run([*DVC, "init", "-q"], directory)
    run([*DVC, "add", "-q", "data/train.csv"], directory)
    run(["git", "add", "."], directory)
    run(["git", "commit", "-qm", "a new project"], directory)
    project = Project.load(directory)

    first = train(project)
    md5 = (directory / "data" / "train.csv.dvc").read_text().split("md5: ")[1].split()[0]
    assert first.data_version == f"md5:{md5}"
    project.tracker.promote(first.model.version)
    window = Window(WINDOW_START, WINDOW_START + timedelta(minutes=15))
    scored = run_window(project, window)
    assert len(pd.read_parquet(scored.output)) == 60

    data = pd.read_csv(directory / "data" / "train.csv")
    data.iloc[: len(data) // 2].to_csv(directory / "data" / "train.csv", index=False)
    run([*DVC, "add", "-q", "data/train.csv"], directory)
    second = train(project)

    assert second.data_version.startswith("md5:") and second.data_version != first.data_version
    versions = {v.ref.version: v.data_version for v in project.tracker.versions()}
    assert versions == {"1": first.data_version, "2": second.data_version}
    outcome = CliRunner().invoke(
        app, ["lineage", second.run_id, "--project", str(directory), "--json"]
    )
    assert outcome.exit_code == 0, outcome.output
    lineage = json.loads(outcome.stdout)["run"]
    assert lineage["data_version"] == second.data_version
    assert lineage["git_commit"] is not None and lineage["git_dirty"] is True
    assert lineage["model_version"] == "2"

    run(["git", "add", "."], directory)
    run(["git", "commit", "-qm", "half the data"], directory)
    run([*DVC, "repro", "-q"], directory)  # the train stage: the data changed since its lock
    metrics = json.loads((directory / "metrics.json").read_text())
    assert set(metrics) >= {"roc_auc", "accuracy", "f1"}
    assert project.tracker.versions()[0].ref.version == "3"
