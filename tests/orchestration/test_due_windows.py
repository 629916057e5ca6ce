"""Which windows a scheduler runs: the latest complete one, after the missed ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from _projects import write_project
from shipml.orchestration.due import SCHEDULER, due_windows
from shipml.project.project import Project
from shipml.windows import Cron, Window

QUARTER = timedelta(minutes=15)
NOW = datetime(2026, 11, 27, 12, 7, tzinfo=UTC)  # the latest complete window is 11:45-12:00


def _at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 27, hour, minute, tzinfo=UTC)


def _succeeded(project: Project, start: datetime, length: timedelta = QUARTER) -> None:
    run_id = project.store.start_run(
        project.name, "batch", window_start=start, window_end=start + length, trigger=SCHEDULER
    )
    project.store.finish_run(run_id, status="succeeded")


def _failed(project: Project, start: datetime) -> None:
    run_id = project.store.start_run(
        project.name, "batch", window_start=start, window_end=start + QUARTER, trigger=SCHEDULER
    )
    project.store.finish_run(run_id, status="failed", error="boom")


def test_a_new_project_runs_only_the_latest_complete_window(tmp_path: Path) -> None:
    project = Project.load(write_project(tmp_path))

    due = due_windows(project, QUARTER, catch_up_max=96, now=NOW)

    assert due.windows == (Window(_at(11, 45), _at(12, 0)),)
    assert due.not_caught_up is None


def test_windows_after_the_last_success_are_caught_up_oldest_first(tmp_path: Path) -> None:
    project = Project.load(write_project(tmp_path))
    _succeeded(project, _at(10, 45))
    _failed(project, _at(11, 0))  # failed windows after the last success are missed too

    due = due_windows(project, QUARTER, catch_up_max=96, now=NOW)

    assert [w.start for w in due.windows] == [_at(11, 0), _at(11, 15), _at(11, 30), _at(11, 45)]
    assert due.not_caught_up is None


def test_windows_tried_before_any_success_count_as_missed(tmp_path: Path) -> None:
    project = Project.load(write_project(tmp_path))
    project.store.start_run(  # a run whose process was killed: it stays "running"
        project.name, "batch", window_start=_at(11, 15), window_end=_at(11, 30), trigger=SCHEDULER
    )

    due = due_windows(project, QUARTER, catch_up_max=96, now=NOW)

    assert [w.start for w in due.windows] == [_at(11, 15), _at(11, 30), _at(11, 45)]


def test_catch_up_keeps_the_newest_missed_windows_and_reports_the_rest(tmp_path: Path) -> None:
    project = Project.load(write_project(tmp_path))
    _succeeded(project, _at(10, 0))

    due = due_windows(project, QUARTER, catch_up_max=2, now=NOW)

    assert [w.start for w in due.windows] == [_at(11, 15), _at(11, 30), _at(11, 45)]
    assert due.not_caught_up == (_at(10, 15), _at(11, 15))


def test_no_catch_up_at_all_when_the_limit_is_zero(tmp_path: Path) -> None:
    project = Project.load(write_project(tmp_path))
    _succeeded(project, _at(10, 0))

    due = due_windows(project, QUARTER, catch_up_max=0, now=NOW)

    assert [w.start for w in due.windows] == [_at(11, 45)]
    assert due.not_caught_up == (_at(10, 15), _at(11, 45))


def test_nothing_is_missed_when_the_latest_window_already_succeeded(tmp_path: Path) -> None:
    project = Project.load(write_project(tmp_path))
    _succeeded(project, _at(11, 45))

    due = due_windows(project, QUARTER, catch_up_max=96, now=NOW)

    assert due.windows == (Window(_at(11, 45), _at(12, 0)),)  # run_window will skip it


def test_a_cron_schedule_catches_up_on_its_own_fire_times(tmp_path: Path) -> None:
    project = Project.load(write_project(tmp_path))
    hourly_at_ten_past = Cron("10 * * * *")
    _succeeded(project, _at(8, 10), timedelta(hours=1))

    due = due_windows(project, hourly_at_ten_past, catch_up_max=96, now=NOW)

    assert due.windows == (
        Window(_at(9, 10), _at(10, 10)),
        Window(_at(10, 10), _at(11, 10)),
    )
