"""`shipml monitor status` and `shipml monitor report` on a project with a real run store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from _monitored import baseline, monitored_windows
from _projects import write_project
from shipml.cli.monitor import register
from shipml.project.history import save_window
from shipml.store import RunStore


def shipml(*args: str) -> Result:
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args))


def store_of(project: Path) -> RunStore:
    return RunStore(f"sqlite:///{project / '.shipml' / 'shipml.db'}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The toy project (name "toy") with a baseline and eight monitored batch windows."""
    write_project(tmp_path)
    (tmp_path / ".shipml").mkdir()
    with store_of(tmp_path) as store:
        store.save_profile("toy", "baseline", "baseline", baseline().model_dump(mode="json"))
        for window in monitored_windows(8):
            run_id = store.start_run(
                "toy", "batch", window_start=window.start, window_end=window.end
            )
            save_window(
                store,
                "toy",
                "batch",
                profile=window.profile,
                latency=window.latency,
                evaluation=window.evaluation,
                run_id=run_id,
                window_start=window.start,
                window_end=window.end,
            )
        store.open_alert(
            "toy",
            "prediction_shift",
            "mean of 'failure_probability' is 0.9",
            column="failure_probability",
            severity="critical",
            value=0.9,
        )
    return tmp_path


def test_status_shows_windows_drift_shift_latency_and_open_alerts(project: Path) -> None:
    result = shipml("monitor", "status", "--project", str(project))

    assert result.exit_code == 0, result.output
    for title in (
        "latest monitored windows of toy",
        "drift per column",
        "prediction shift",
        "latency",
        "open alerts (1)",
    ):
        assert title in result.output
    assert "sensor_0" in result.output
    assert "prediction_shift" in result.output


def test_status_as_json_lists_the_windows_oldest_first(project: Path) -> None:
    result = shipml("monitor", "status", "--project", str(project), "--json", "--last", "4")

    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)  # logs (e.g. an earlier test's webhook) go to stderr
    windows = status["windows"]
    assert len(windows) == 4
    assert [w["start"] for w in windows] == sorted(w["start"] for w in windows)
    assert windows[-1]["shifted"] is True and "psi:sensor_0" in windows[-1]["drifted"]
    assert windows[-1]["rows"] == 1000
    assert status["latest_shift"]["column"] == "failure_probability"
    assert status["latest_latency"]["total"]["count"] == 1000
    assert [a["rule"] for a in status["open_alerts"]] == ["prediction_shift"]


def test_a_rerun_window_is_listed_once(project: Path) -> None:
    window = monitored_windows(1)[0]
    with store_of(project) as store:
        save_window(
            store,
            "toy",
            "batch",
            profile=window.profile,
            evaluation=window.evaluation,
            window_start=window.start,
            window_end=window.end,
        )

    result = shipml("monitor", "status", "--project", str(project), "--json")

    assert len(json.loads(result.stdout)["windows"]) == 8


def test_status_of_a_project_without_windows_says_so(tmp_path: Path) -> None:
    write_project(tmp_path)

    result = shipml("monitor", "status", "--project", str(tmp_path))

    assert result.exit_code == 0
    assert "no monitored windows of toy yet" in result.output
    assert "open alerts (0)" in result.output


def test_report_writes_one_html_file(project: Path) -> None:
    out = project / "monitoring.html"
    with store_of(project) as store:
        store.open_alert("toy", "drift.psi", "psi drift", column="sensor_0")

    result = shipml("monitor", "report", "--project", str(project), "--out", str(out))

    assert result.exit_code == 0, result.output
    assert "8 windows, 2 alerts" in result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('class="shipml-figure"') == 5


def test_report_without_windows_fails_with_one_line(tmp_path: Path) -> None:
    write_project(tmp_path)

    result = shipml(
        "monitor", "report", "--project", str(tmp_path), "--out", str(tmp_path / "r.html")
    )

    assert result.exit_code == 1
    assert "no monitored windows of 'toy' to report on" in result.output
    assert not (tmp_path / "r.html").exists()


def test_report_into_a_missing_directory_is_refused(project: Path) -> None:
    result = shipml(
        "monitor", "report", "--project", str(project), "--out", str(project / "nowhere" / "r.html")
    )

    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_windows_stored_without_evaluation_are_evaluated_against_the_baseline(
    tmp_path: Path,
) -> None:
    write_project(tmp_path)
    (tmp_path / ".shipml").mkdir()
    with store_of(tmp_path) as store:
        store.save_profile("toy", "baseline", "baseline", baseline().model_dump(mode="json"))
        hot = monitored_windows(8)[-1]
        store.save_profile(
            "toy",
            "online",
            "window",
            hot.profile.model_dump(mode="json"),
            window_start=hot.start,
            window_end=hot.end,
        )

    result = shipml("monitor", "status", "--project", str(tmp_path), "--json")

    (window,) = json.loads(result.stdout)["windows"]
    assert window["kind"] == "online"
    assert window["shifted"] is True
