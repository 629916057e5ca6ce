"""`shipml demo`, the README's main job: every injected fault is reported in its own window."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shipml.cli import app
from shipml.project.project import Project


def test_the_demo_reports_every_fault_and_nothing_on_clean_windows(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path)])

    assert outcome.exit_code == 0, outcome.output
    assert "every injected fault was reported in its window" in outcome.output
    runs = Project.load(tmp_path).store.runs(kind="batch", limit=100)
    assert sorted(r.status for r in runs) == ["failed"] * 3 + ["succeeded"] * 7
    report = (tmp_path / "report.html").read_text()
    assert "<html" in report and "cdn." not in report
