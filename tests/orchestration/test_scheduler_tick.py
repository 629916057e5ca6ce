"""One scheduler tick, in this process: the due windows, or one clear line when it cannot run."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from _scheduled import recent_windows, write_inputs

from _projects import write_project
from shipml.orchestration.due import SCHEDULER
from shipml.orchestration.scheduler import WindowScheduler
from shipml.project.project import Project


def test_a_tick_runs_the_missed_windows_then_the_latest_one(scheduled_toy: Path) -> None:
    windows = recent_windows(before=3, after=5)
    write_inputs(scheduled_toy, windows)
    project = Project.load(scheduled_toy)
    run_id = project.store.start_run(
        "toy", "batch", window_start=windows[0].start, window_end=windows[0].end, trigger=SCHEDULER
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


def test_after_windows_run_by_hand_a_tick_catches_up_its_horizon_with_one_alert(
    scheduled_toy: Path,
) -> None:
    """Old windows run by hand do not make the scheduler walk back to them; missing input
    over the horizon is one alert; the tick ends on the current window."""
    from datetime import timedelta

    from shipml.project.batch import run_window

    project = Project.load(scheduled_toy)  # catch_up_max 96 windows of 2 s
    long_ago = recent_windows(before=400, after=0)[:3]  # "last month", run by hand
    write_inputs(scheduled_toy, long_ago)
    for window in long_ago:
        run_window(project, window)
    current = recent_windows(before=0, after=3)
    write_inputs(scheduled_toy, current)

    outcomes = WindowScheduler(project).tick()

    assert outcomes[-1].status == "succeeded"
    assert outcomes[-1].window.start >= current[0].start  # reached the current window
    missed = [o for o in outcomes if o.missing_input]
    assert 90 <= len(missed) <= 96  # the horizon, not the 400 windows since the backfill
    assert min(o.window.start for o in outcomes) > long_ago[-1].start + timedelta(minutes=10)
    [alert] = [a for a in project.store.alerts(pipeline="toy") if a.rule == "missing_input"]
    assert alert.value == len(missed) and alert.occurrences == 1
