"""`shipml schedule` as a real process: aligned windows, clean stops, crashes, catch-up, locking."""

from __future__ import annotations

import itertools
import re
import signal
from datetime import datetime
from pathlib import Path

import pytest
from _scheduled import (
    EVERY,
    output_files,
    recent_windows,
    scheduled_copy,
    scheduler_log,
    scheduler_process,
    wait_for,
    write_inputs,
)

from shipml.orchestration.due import SCHEDULER
from shipml.project.project import Project
from shipml.store import RunRecord
from shipml.windows import Window, latest_complete_window

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

# A scheduler's first window waits for imports and the MLflow model: slow on a busy machine.
STARTUP = 120


def _batch_runs(project_dir: Path) -> list[RunRecord]:
    with Project.load(project_dir).store as store:
        return store.runs(limit=1000, pipeline="toy", kind="batch")


def _window_of(run: RunRecord) -> Window:
    assert run.window_start is not None and run.window_end is not None
    return Window(run.window_start, run.window_end)


def _succeeded_starts(project_dir: Path) -> list[datetime]:
    return sorted(r.window_start for r in _batch_runs(project_dir) if r.status == "succeeded")


def test_windows_run_as_they_complete_and_sigterm_finishes_the_running_one(
    scheduled_toy: Path,
) -> None:
    write_inputs(scheduled_toy, recent_windows(before=2, after=100))
    with scheduler_process(scheduled_toy) as scheduler:
        wait_for(lambda: len(_succeeded_starts(scheduled_toy)) >= 2, STARTUP, "two windows")
        (scheduled_toy / "pause").touch()
        wait_for((scheduled_toy / "paused").exists, 20, "a window to be in its step")
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.poll() is None  # still finishing the window
        (scheduled_toy / "pause").unlink()
        assert scheduler.wait(30) == 0

    runs = _batch_runs(scheduled_toy)
    assert {r.status for r in runs} == {"succeeded"}  # the interrupted window finished
    windows = sorted((_window_of(r) for r in runs), key=lambda w: w.start)
    assert all(w.start.timestamp() % EVERY.total_seconds() == 0 for w in windows)  # on the grid
    assert all(w.end - w.start == EVERY for w in windows)
    assert len(set(windows)) == len(windows)
    expected = sorted(f"{w.key}.parquet" for w in windows)  # keys drop ":00" seconds
    assert [f.name for f in output_files(scheduled_toy)] == expected
    assert "finishing the running window" in scheduler_log(scheduled_toy)


def test_a_window_killed_mid_step_is_redone_once_on_restart(scheduled_toy: Path) -> None:
    write_inputs(scheduled_toy, recent_windows(before=2, after=100))
    (scheduled_toy / "pause").touch()
    with scheduler_process(scheduled_toy) as scheduler:
        wait_for((scheduled_toy / "paused").exists, STARTUP, "a window to be in its step")
        scheduler.send_signal(signal.SIGKILL)
        scheduler.wait(10)
    [crashed] = _batch_runs(scheduled_toy)
    assert crashed.status == "running"  # the process died; the store still says running
    assert output_files(scheduled_toy) == []

    (scheduled_toy / "pause").unlink()
    with scheduler_process(scheduled_toy) as scheduler:
        wait_for(
            lambda: crashed.window_start in _succeeded_starts(scheduled_toy), STARTUP, "the redo"
        )
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(30) == 0

    redone = [r for r in _batch_runs(scheduled_toy) if r.window_start == crashed.window_start]
    assert sorted(r.status for r in redone) == ["failed", "succeeded"]
    key = _window_of(crashed).key
    assert [f.name for f in output_files(scheduled_toy) if key in f.name] == [f"{key}.parquet"]


def test_missed_windows_are_caught_up_oldest_first_up_to_the_limit(
    trained_toy: Path, tmp_path: Path
) -> None:
    project_dir = scheduled_copy(trained_toy, tmp_path / "toy", catch_up_max=3)
    windows = recent_windows(before=8, after=100)
    write_inputs(project_dir, windows)
    with Project.load(project_dir).store as store:  # the scheduler's last success: 8 ago
        run_id = store.start_run(
            "toy",
            "batch",
            window_start=windows[0].start,
            window_end=windows[0].end,
            trigger=SCHEDULER,
        )
        store.finish_run(run_id, status="succeeded")

    with scheduler_process(project_dir) as scheduler:
        wait_for(lambda: len(_succeeded_starts(project_dir)) >= 5, STARTUP, "the catch-up")
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(30) == 0

    runs = sorted(_batch_runs(project_dir), key=lambda r: r.started_at)[1:]
    caught_up = [r.window_start for r in runs[:4]]
    assert caught_up == sorted(caught_up)  # oldest first
    assert caught_up[0] > windows[1].start  # older missed windows were left out...
    with Project.load(project_dir).store as store:
        [alert] = [a for a in store.alerts(pipeline="toy") if a.rule == "catch_up_limit"]
    assert alert.status == "open"  # ...and reported
    assert "shipml run --start" in alert.message


def test_two_schedulers_on_one_project_never_run_windows_at_once(scheduled_toy: Path) -> None:
    write_inputs(scheduled_toy, recent_windows(before=2, after=100))
    with scheduler_process(scheduled_toy) as first, scheduler_process(scheduled_toy) as second:
        wait_for(lambda: len(_succeeded_starts(scheduled_toy)) >= 4, STARTUP, "four windows")
        for scheduler in (first, second):
            scheduler.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0 and second.wait(30) == 0

    runs = sorted(_batch_runs(scheduled_toy), key=lambda r: r.started_at)
    assert {r.status for r in runs} == {"succeeded"}
    for before, after in itertools.pairwise(runs):
        assert before.finished_at is not None and before.finished_at <= after.started_at
    assert len({r.window_start for r in runs}) == len(runs)  # no window ran twice


def test_after_a_backfill_by_hand_the_scheduler_reaches_the_current_window_with_one_alert(
    scheduled_toy: Path,
) -> None:
    """`shipml run` over windows of long ago, then `shipml schedule`: the first tick catches up
    its own horizon only (without input: one alert, one notification) and ends on the
    current window."""
    import json
    import os
    from datetime import UTC, timedelta

    from typer.testing import CliRunner

    from _http_server import Reply, http_server
    from shipml.cli import app

    month_ago = recent_windows(before=0, after=0, now=datetime.now(UTC) - timedelta(days=30))[0]
    backfill = [Window(month_ago.start + EVERY * n, month_ago.end + EVERY * n) for n in range(5)]
    write_inputs(scheduled_toy, backfill)
    ran = CliRunner().invoke(
        app,
        [
            "run",
            "--project",
            str(scheduled_toy),
            "--start",
            backfill[0].start.isoformat(),
            "--end",
            backfill[-1].end.isoformat(),
        ],
    )
    assert ran.exit_code == 0, ran.output
    write_inputs(scheduled_toy, recent_windows(before=0, after=150))

    with http_server(Reply(200)) as server:
        os.environ["SHIPML_ALERTS__WEBHOOK_URL"] = server.url + "/hook"
        try:
            started = datetime.now(UTC)
            with scheduler_process(scheduled_toy) as scheduler:
                wait_for(lambda: _caught_up(scheduled_toy), STARTUP, "the current window")
                scheduler.send_signal(signal.SIGTERM)
                assert scheduler.wait(30) == 0
        finally:
            del os.environ["SHIPML_ALERTS__WEBHOOK_URL"]
        sent = [json.loads(body) for _, _, body in server.requests]

    scheduled = sorted(
        (r for r in _batch_runs(scheduled_toy) if r.trigger == SCHEDULER),
        key=lambda r: r.started_at,
    )
    # the first tick: its catch-up (at most catch_up_max), then the window current at its start
    found = re.search(
        r"tick: (\d+) missed window\(s\) to catch up, then the current one starting (\S+)",
        scheduler_log(scheduled_toy),
    )
    assert found is not None
    missed, current = int(found.group(1)), datetime.fromisoformat(found.group(2))
    assert 0 < missed <= 96  # the horizon, not the month since the backfill
    assert current >= latest_complete_window(EVERY, started).start  # current at the tick
    first_tick = scheduled[: missed + 1]
    assert [r.window_start for r in first_tick][-1] == current
    assert first_tick[-1].status == "succeeded"  # reached in the first tick
    without_input = [r for r in first_tick if r.status == "failed"]
    assert without_input and all("no input" in (r.error or "") for r in without_input)
    assert min(r.window_start for r in first_tick if r.window_start) > backfill[-1].end
    with Project.load(scheduled_toy).store as store:
        missing = [a for a in store.alerts(pipeline="toy") if a.rule == "missing_input"]
    assert len(missing) == 1 and missing[0].value == len(without_input)
    assert [n["rule"] for n in sent].count("missing_input") == 1


def _caught_up(project_dir: Path) -> bool:
    """Whether the scheduler scored the window that was current when its first tick began."""
    with Project.load(project_dir).store as store:
        runs = store.runs(limit=1000, pipeline="toy", kind="batch")
    scheduled = sorted((r for r in runs if r.trigger == SCHEDULER), key=lambda r: r.started_at)
    if not scheduled:
        return False
    current = latest_complete_window(EVERY, scheduled[0].started_at - EVERY)
    return any(
        r.status == "succeeded" and r.window_start and r.window_start >= current.start
        for r in scheduled
    )
