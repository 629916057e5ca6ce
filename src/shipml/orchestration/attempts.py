"""Run one scheduled window: retry while its input is missing, then alert; never skip silently.

A window whose input file is not there yet is tried again after `missing_input_backoff`,
doubling the wait each time, `missing_input_retries` times (catch-up windows, already late,
are tried once). When the input is still missing, the pipeline's one critical
`missing_input` alert counts the window (its count and window range grow; it is notified
once), and the window's success later closes it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from shipml.alerting.windows import MISSING_INPUT, raise_missing_input
from shipml.errors import CriticalAlert, WindowFailed
from shipml.orchestration.due import SCHEDULER
from shipml.project.batch import WindowOutcome, run_window
from shipml.project.project import Project
from shipml.versioning.tracking import LoadedModel
from shipml.windows import Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retries:
    """How often, and after how long, a window with missing input is tried again."""

    retries: int
    backoff: timedelta

    def delay(self, retry: int) -> float:
        """Seconds before retry number `retry` (1, 2, ...): the backoff, doubled each time."""
        return self.backoff.total_seconds() * 2.0 ** (retry - 1)


def run_scheduled_window(
    project: Project,
    window: Window,
    model: LoadedModel,
    stop: threading.Event,
    *,
    retry_missing: bool = True,
    alert_missing: bool = True,
) -> WindowOutcome | None:
    """Run `window`, retrying on missing input; None when `stop` interrupted a wait.

    Without `alert_missing`, the caller alerts on missing input (for several windows at once).
    """
    schedule = project.settings.schedule
    retries = Retries(
        schedule.missing_input_retries if retry_missing else 0, schedule.missing_input_backoff
    )
    missing: WindowFailed | None = None
    for retry in range(retries.retries + 1):
        if retry and stop.wait(retries.delay(retry)):
            log.warning("window %s: stopping before retry %d of its missing input", window, retry)
            return None
        try:
            return _run_logged(project, window, model)
        except WindowFailed as failed:
            if not failed.outcome.missing_input:
                log.error("window %s failed (run %s): %s", window, failed.outcome.run_id, failed)
                return failed.outcome
            missing = failed
            log.warning(
                "window %s: %s (attempt %d of %d)",
                window,
                failed.cause,
                retry + 1,
                retries.retries + 1,
            )
    assert missing is not None  # the loop ran at least once, each time on missing input
    if alert_missing:
        alert_missing_input(
            project,
            [window],
            str(missing.cause),
            attempts=retries.retries + 1,
            run_id=missing.outcome.run_id,
        )
    return missing.outcome


def _run_logged(project: Project, window: Window, model: LoadedModel) -> WindowOutcome:
    """`run_window`, with one log line for how it ended (a critical alert is not a failure)."""
    try:
        outcome = run_window(project, window, model=model, trigger=SCHEDULER)
    except CriticalAlert as alerted:
        outcome = alerted.outcome
        log.error("window %s raised a critical alert: %s", window, "; ".join(outcome.alerts))
        return outcome
    if outcome.status == "skipped":
        log.info("window %s already succeeded (run %s)", window, outcome.run_id)
    else:
        log.info(
            "window %s: %d rows in, %d invalid, %d quarantined, %d out -> %s (run %s)",
            window,
            outcome.rows_in,
            outcome.rows_invalid,
            outcome.rows_quarantined,
            outcome.rows_out,
            outcome.output,
            outcome.run_id,
        )
    return outcome


def alert_missing_input(
    project: Project,
    windows: Sequence[Window],
    cause: str,
    *,
    attempts: int,
    run_id: str | None,
) -> None:
    """Count `windows` in the pipeline's critical `missing_input` alert; notify if new; log."""
    outcome = raise_missing_input(
        project.store,
        project.name,
        [(w.start, w.end) for w in windows],
        f"{cause} after {attempts} attempt(s)",
        run_id=run_id,
        sinks=project.alert_sinks,
    )
    log.critical(
        "%d window(s) without input, %s to %s; alert %s %s: %s",
        len(windows),
        windows[0],
        windows[-1],
        MISSING_INPUT,
        "opened" if outcome.is_new else "updated",
        outcome.alert.message,
    )
