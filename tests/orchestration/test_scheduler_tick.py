"""One scheduler tick, in this process: the due windows, or one clear line when it cannot run."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from _scheduled import recent_windows, write_inputs

from _projects import write_project
from shipml.orchestration.scheduler import WindowScheduler
from shipml.project.project import Project


def test_a_tick_runs_the_missed_windows_then_the_latest_one(scheduled_toy: Path) -> None:
    windows = recent_windows(before=3, after=5)
    write_inputs(scheduled_toy, windows)
    project = Project.load(scheduled_toy)
    run_id = project.store.start_run(
        "toy", "batch", window_start=windows[0].start, window_end=windows[0].end
    )
    project.store.finish_run(run_id, status="succeeded")

    outcomes = WindowScheduler(project).tick()

    assert [o.status for o in outcomes] == ["succeeded"] * len(outcomes)
    starts = [o.window.start for o in outcomes]
    assert starts[0] == windows[1].start  # right after the last success
    assert starts == sorted(starts) and len(starts) >= 3


def test_a_tick_without_a_champion_model_logs_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = Project.load(write_project(tmp_path))  # never trained

    with caplog.at_level(logging.ERROR):
        outcomes = WindowScheduler(project).tick()

    assert outcomes == []
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "cannot run the windows of toy" in record.getMessage()
    assert record.exc_info is None  # one line, no traceback
