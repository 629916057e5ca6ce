"""A window whose input is missing is retried with backoff, then alerted; never skipped silently."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from _scheduled import input_file, recent_windows, write_inputs

from _projects import fitted_model
from shipml.orchestration.attempts import MISSING_INPUT, run_scheduled_window
from shipml.project.project import Project


def test_input_still_missing_after_the_retries_opens_a_critical_alert(
    scheduled_toy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = Project.load(scheduled_toy)  # 2 retries, backoff 1 s (then 2 s)
    window = recent_windows(before=0, after=0)[0]

    started = time.monotonic()
    with caplog.at_level(logging.INFO):
        outcome = run_scheduled_window(
            project, window, fitted_model(scheduled_toy), threading.Event()
        )

    assert time.monotonic() - started >= 3  # waited 1 s, then 2 s
    assert outcome is not None and outcome.status == "failed"
    [alert] = [a for a in project.store.alerts(pipeline="toy") if a.rule == MISSING_INPUT]
    assert alert.status == "open"
    # one alert per pipeline (not per window): it counts the windows and their range
    assert (alert.rule, alert.severity, alert.column) == (MISSING_INPUT, "critical", None)
    assert alert.window_start == alert.first_window_start == window.start
    assert alert.value == 1 and "input missing for 1 window(s)" in alert.message
    assert str(input_file(scheduled_toy, window)) in alert.message
    assert "3 attempt(s)" in alert.message
    attempts = [r for r in project.store.runs(pipeline="toy", kind="batch")]
    assert [r.status for r in attempts] == ["failed"] * 3
    assert any(
        r.levelno == logging.CRITICAL and MISSING_INPUT in r.getMessage() for r in caplog.records
    )


def test_input_that_arrives_during_the_backoff_is_picked_up(scheduled_toy: Path) -> None:
    project = Project.load(scheduled_toy)
    window = recent_windows(before=0, after=0)[0]
    arrival = threading.Timer(0.5, write_inputs, args=(scheduled_toy, [window]))
    arrival.start()

    outcome = run_scheduled_window(project, window, fitted_model(scheduled_toy), threading.Event())

    arrival.join()
    assert outcome is not None and outcome.status == "succeeded"
    assert outcome.output is not None and Path(outcome.output).is_file()
    assert MISSING_INPUT not in {a.rule for a in project.store.alerts(pipeline="toy")}


def test_a_stop_request_ends_the_backoff_without_an_alert(scheduled_toy: Path) -> None:
    project = Project.load(scheduled_toy)
    window = recent_windows(before=0, after=0)[0]
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()

    outcome = run_scheduled_window(project, window, fitted_model(scheduled_toy), stop)

    assert outcome is None
    assert project.store.alerts(pipeline="toy") == []
    [attempt] = project.store.runs(pipeline="toy", kind="batch")
    assert attempt.status == "failed"  # recorded, so the next start runs the window again


def test_more_windows_without_input_grow_the_one_alert_and_its_success_closes_it(
    scheduled_toy: Path,
) -> None:
    project = Project.load(scheduled_toy)
    first, second = recent_windows(before=1, after=0)
    model = fitted_model(scheduled_toy)
    for window in (first, second):
        outcome = run_scheduled_window(
            project, window, model, threading.Event(), retry_missing=False
        )
        assert outcome is not None and outcome.missing_input

    [alert] = [a for a in project.store.alerts(pipeline="toy") if a.rule == MISSING_INPUT]
    assert alert.value == 2 and alert.occurrences == 2
    assert (alert.first_window_start, alert.window_start) == (first.start, second.start)
    assert "input missing for 2 window(s)" in alert.message

    write_inputs(scheduled_toy, [first, second])
    run_scheduled_window(project, first, model, threading.Event())
    assert project.store.alerts(status="open", pipeline="toy")[0].rule == MISSING_INPUT  # one left
    run_scheduled_window(project, second, model, threading.Event())

    [closed] = [a for a in project.store.alerts(pipeline="toy") if a.rule == MISSING_INPUT]
    assert closed.status == "closed" and closed.closed_window_start == second.start
