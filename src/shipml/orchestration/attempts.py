"""Run one scheduled window: retry while its input is missing, then alert; never skip silently.

A window whose input file is not there yet is tried again after `missing_input_backoff`,
doubling the wait each time, `missing_input_retries` times. When the input is still missing,
a critical `missing_input` alert is opened in the store (one per window, the window's key
in the alert's column), sent to the alert sinks and logged.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from shipml.errors import CriticalAlert, MissingInput, WindowFailed
from shipml.monitoring.alerts import CandidateAlert
from shipml.orchestration.alerting import raise_scheduler_alert
from shipml.project.batch import WindowOutcome, run_window
from shipml.project.project import Project
from shipml.versioning.tracking import LoadedModel
from shipml.windows import Window

log = logging.getLogger(__name__)

MISSING_INPUT = "missing_input"


@dataclass(frozen=True)
class Retries:
    """How often, and after how long, a window with missing input is tried again."""

    retries: int
    backoff: timedelta

    def delay(self, retry: int) -> float:
        """Seconds before retry number `retry` (1, 2, ...): the backoff, doubled each time."""
        return self.backoff.total_seconds() * 2 ** (retry - 1)


def run_scheduled_window(
    project: Project, window: Window, model: LoadedModel, stop: threading.Event
) -> WindowOutcome | None:
    """Run `window`, retrying on missing input; None when `stop` interrupted a wait."""
    schedule = project.settings.schedule
    retries = Retries(schedule.missing_input_retries, schedule.missing_input_backoff)
    missing: WindowFailed | None = None
    for retry in range(retries.retries + 1):
        if retry and stop.wait(retries.delay(retry)):
            log.warning("window %s: stopping before retry %d of its missing input", window, retry)
            return None
        try:
            return _run_logged(project, window, model)
        except WindowFailed as failed:
            if not isinstance(failed.cause, MissingInput):
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
    assert isinstance(missing.cause, MissingInput)
    alert_missing_input(
        project, window, missing.cause, attempts=retries.retries + 1, run_id=missing.outcome.run_id
    )
    return missing.outcome


def _run_logged(project: Project, window: Window, model: LoadedModel) -> WindowOutcome:
    """`run_window`, with one log line for how it ended (a critical alert is not a failure)."""
    try:
        outcome = run_window(project, window, model=model)
    except CriticalAlert as alerted:
        outcome = alerted.outcome
        log.error("window %s raised a critical alert: %s", window, "; ".join(outcome.alerts))
        return outcome
    if outcome.status == "skipped":
        log.info("window %s already succeeded (run %s)", window, outcome.run_id)
    else:
        log.info(
            "window %s: %d rows in, %d quarantined, %d out -> %s (run %s)",
            window,
            outcome.rows_in,
            outcome.rows_quarantined,
            outcome.rows_out,
            outcome.output,
            outcome.run_id,
        )
    return outcome


def alert_missing_input(
    project: Project, window: Window, missing: MissingInput, *, attempts: int, run_id: str | None
) -> None:
    """Open (or refresh) the window's critical `missing_input` alert, notify and log it."""
    message = f"{missing} after {attempts} attempt(s)"
    candidate = CandidateAlert(
        rule=MISSING_INPUT,
        column=window.key,
        value=attempts,
        threshold=attempts,
        severity="critical",
        message=message,
    )
    raise_scheduler_alert(project, candidate, run_id=run_id, window_start=window.start)
    log.critical("window %s: %s; alert %s opened", window, message, MISSING_INPUT)
