"""Windows under `drift_min_rows`: drift is judged on the recent windows merged, and says so;
when even they are too few, it is "not checked", in status, the report and the metrics."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _failing import run, windows, write_inputs
from _projects import SETTINGS
from shipml.cli import app
from shipml.cli._common import console
from shipml.project.history import load_windows
from shipml.project.project import Project


@pytest.fixture
def project(trained_project: Path, tmp_path: Path) -> Path:
    """The toy project (75-row windows), its drift minimum at 200 rows, metrics to a file."""
    directory = tmp_path / "project"
    shutil.copytree(trained_project, directory, ignore=shutil.ignore_patterns("outputs"))
    (directory / "shipml.toml").write_text(
        SETTINGS + '\n[monitoring]\ndrift_min_rows = 200\nprometheus_textfile = "toy.prom"\n'
    )
    return directory


def test_small_windows_are_judged_together_once_they_reach_the_minimum(project: Path) -> None:
    four = windows(0, 4)
    write_inputs(project, four)

    assert run(project, four) == 0

    monitored = load_windows(Project.load(project).store, "toy")
    evaluations = [w.evaluation for w in monitored]
    # 75, 150: too few; 225 rows over the last 3 windows: judged; then again the last 3
    assert [e.drift_windows for e in evaluations] == [1, 2, 3, 3]
    assert [e.drift_rows for e in evaluations] == [75, 150, 225, 225]
    assert [e.drift_checked for e in evaluations] == [False, False, True, True]
    psi = next(r for r in evaluations[2].drift if r.method == "psi")
    assert psi.value is not None and psi.note == "judged on the last 3 windows, 225 values"
    first = next(r for r in evaluations[0].drift if r.method == "psi")
    assert first.value is None and first.note == "not checked (75 < 200 values)"
    assert not first.drifted


def test_status_report_and_metrics_say_not_checked(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # whole lines in the tables (the console read $COLUMNS when an earlier test imported it)
    monkeypatch.setattr(console, "width", 250)
    [only] = windows(0, 1)
    write_inputs(project, [only])
    assert run(project, [only]) == 0

    status = CliRunner().invoke(app, ["monitor", "status", "--project", str(project)])
    as_json = CliRunner().invoke(app, ["monitor", "status", "--project", str(project), "--json"])
    report = project / "report.html"
    CliRunner().invoke(app, ["monitor", "report", "--project", str(project), "-o", str(report)])

    assert "not checked (n < min)" in status.output
    assert "not checked (75 < 200 values)" in status.output
    [window] = json.loads(as_json.stdout)["windows"]
    assert window["drift_checked"] is False and window["drifted"] == []
    assert "temperature_c" in " ".join(window["not_checked"])
    assert "not checked (n &lt; min)" in report.read_text()
    metrics = (project / "toy.prom").read_text()
    assert (
        'shipml_feature_drift_checked{column="temperature_c",method="psi",pipeline="toy"} 0.0'
        in metrics
    )
    assert "shipml_feature_drift_score{" not in metrics  # no reassuring 0
