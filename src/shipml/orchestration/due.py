"""Which batch windows a scheduler should run now: the latest complete one, after the missed ones.

The catch-up horizon starts where the scheduler itself left off (after the last window it
ran that succeeded; before any, at the first one it tried), or `catch_up_max` windows before
the latest, whichever is later: windows run by hand (`shipml run`, a backfill) never make
the scheduler walk back over a month. Inside the horizon, a window is missed unless its
latest run succeeded; missed windows run oldest first, then the latest complete window,
which is always due (`run_window` skips it when it already succeeded). Windows the scheduler
left behind beyond `catch_up_max` are reported, never dropped silently. A new project, with
no batch run at all, runs only the latest complete window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shipml.project.project import Project
from shipml.windows import Cadence, Window, latest_complete_window

SCHEDULER = "scheduler"  # the trigger of the runs the scheduler starts


@dataclass(frozen=True)
class DueWindows:
    """The windows to run now, oldest first, and the missed span left out by `catch_up_max`."""

    windows: tuple[Window, ...]
    not_caught_up: tuple[datetime, datetime] | None = None  # [start, end) of the left-out span


def due_windows(
    project: Project, cadence: Cadence, catch_up_max: int, now: datetime | None = None
) -> DueWindows:
    """The missed windows (at most `catch_up_max`) and the latest complete window, oldest first."""
    latest = latest_complete_window(cadence, now)
    store = project.store
    if not store.has_batch_runs(project.name):
        return DueWindows((latest,))
    resume_at = resume_point(project)
    if resume_at is not None and resume_at > latest.start:
        return DueWindows((latest,))
    horizon: list[Window] = []
    earlier = _previous(latest, cadence)
    while len(horizon) < catch_up_max and (resume_at is None or earlier.start >= resume_at):
        horizon.append(earlier)
        earlier = _previous(earlier, cadence)
    left_out = None
    if resume_at is not None and earlier.start >= resume_at:
        first_kept = horizon[-1] if horizon else latest
        left_out = (resume_at, first_kept.start)
    missed = _not_succeeded(project, horizon)
    return DueWindows((*missed, latest), left_out)


def resume_point(project: Project) -> datetime | None:
    """Where the scheduler left off: after its last success, or at the first window it tried."""
    return project.store.batch_resume_point(project.name, trigger=SCHEDULER)


def _not_succeeded(project: Project, newest_first: list[Window]) -> list[Window]:
    """The windows, oldest first, whose latest run did not succeed (or that never ran)."""
    if not newest_first:
        return []
    statuses = project.store.latest_window_statuses(
        project.name, newest_first[-1].start, newest_first[0].start
    )
    return [w for w in reversed(newest_first) if statuses.get(w.start) != "succeeded"]


def _previous(window: Window, cadence: Cadence) -> Window:
    """The window just before `window` on the cadence."""
    return latest_complete_window(cadence, now=window.start)
