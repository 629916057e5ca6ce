"""Which batch windows a scheduler should run now: the latest complete one, after the missed ones.

A window is missed when it lies between the last window that succeeded (in the run store)
and the latest complete window; before any window succeeded, from the first window that was
tried (and crashed or failed). At most `catch_up_max` missed windows are run, the most
recent ones, oldest first; older missed windows are reported, never dropped silently.
A new project, with no batch run at all, runs only the latest complete window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shipml.project.project import Project
from shipml.windows import Cadence, Window, latest_complete_window


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
    resume_at = resume_point(project)
    if resume_at is None or resume_at > latest.start:
        return DueWindows((latest,))
    missed: list[Window] = []
    earlier = _previous(latest, cadence)
    while earlier.start >= resume_at and len(missed) < catch_up_max:
        missed.append(earlier)
        earlier = _previous(earlier, cadence)
    left_out = None
    if earlier.start >= resume_at:
        first_kept = missed[-1] if missed else latest
        left_out = (resume_at, first_kept.start)
    return DueWindows((*reversed(missed), latest), left_out)


def resume_point(project: Project) -> datetime | None:
    """Where missed windows start: after the last success, or at the first window tried."""
    return project.store.batch_resume_point(project.name)


def _previous(window: Window, cadence: Cadence) -> Window:
    """The window just before `window` on the cadence."""
    return latest_complete_window(cadence, now=window.start)
