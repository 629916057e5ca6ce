"""The embedded scheduler: a project's batch windows on its schedule, with APScheduler 3.

- Windows are aligned to the cadence: an interval fires on its grid (00:00, 00:15, ... from
  the epoch), a cron schedule at its fire times; each fire runs the latest complete window,
  exactly the one `shipml run --start --end` would run.
- On start, and at every fire, missed windows are caught up first (see `due`): each once,
  without waiting for late input; the windows without input make one `missing_input`
  alert; the latest window, which may only be late, gets the missing-input retries.
  A tick always ends with the current window.
- Windows older than one already run (run by hand meanwhile) page nobody: one summary
  per tick tells what they found.
- Never two runs of one pipeline at once: one job instance, one worker thread, and a
  cross-process lock (see `locks`) so that two schedulers on one project wait for each other.
- After the windows of a tick, `[retraining]` may retrain on the alerts they raised (once
  per tick at most, within its cool-down; see `project.retraining`), under the same lock.
- `stop()` (the CLI calls it on SIGTERM/SIGINT) lets the running window finish, then returns.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from shipml.alerting.windows import notify_backfill
from shipml.errors import RegistryError
from shipml.monitoring.alerts import CandidateAlert
from shipml.orchestration.alerting import raise_scheduler_alert
from shipml.orchestration.attempts import alert_missing_input, run_scheduled_window
from shipml.orchestration.due import DueWindows, due_windows
from shipml.orchestration.locks import PipelineLock
from shipml.project import retrain_on_alerts
from shipml.project.batch import WindowOutcome
from shipml.project.labels import ingest_due
from shipml.project.project import Project
from shipml.store import StoreError
from shipml.windows import Cadence, latest_complete_window

log = logging.getLogger(__name__)

CATCH_UP_LIMIT = "catch_up_limit"
_OPEN_ALERTS = 10_000
_JOB = "windows"


class WindowScheduler:
    """Runs a project's batch windows on a cadence until stopped."""

    def __init__(self, project: Project, cadence: Cadence | None = None) -> None:
        self.project = project
        self.cadence = cadence or project.settings.schedule.cadence()
        self._stop = threading.Event()
        self._lock = PipelineLock(project)

    def run(self) -> None:
        """Catch up, then run each window as it completes; return once `stop()` was called."""
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
            timezone=UTC,
        )
        scheduler.add_job(self.tick, "date", run_date=datetime.now(UTC), id="catch-up")
        scheduler.add_job(self.tick, trigger_of(self.cadence), id=_JOB)
        scheduler.start()
        log.info(
            "scheduling %s: windows %s, next at %s",
            self.project.name,
            describe(self.cadence),
            scheduler.get_job(_JOB).next_run_time,
        )
        try:
            self._stop.wait()
        finally:
            log.info("stopping: letting the running window finish")
            scheduler.shutdown(wait=True)
        log.info("scheduler stopped")

    def stop(self) -> None:
        """Ask the scheduler to stop after the running window (safe from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Whether `stop()` was called."""
        return self._stop.is_set()

    def tick(self) -> list[WindowOutcome]:
        """Run the due windows now, oldest first, holding the pipeline's lock."""
        if self._stop.is_set():
            return []
        try:
            with self._lock.held(self._stop) as acquired:
                return self._run_due() if acquired else []
        except (RegistryError, StoreError) as error:  # e.g. no champion model yet
            log.error("cannot run the windows of %s: %s", self.project.name, error)
            return []
        except Exception:  # the scheduler outlives a bad tick; the next one tries again
            log.exception("running the due windows of %s failed", self.project.name)
            return []

    def _run_due(self) -> list[WindowOutcome]:
        schedule = self.project.settings.schedule
        due = due_windows(self.project, self.cadence, schedule.catch_up_max)
        if due.not_caught_up is not None:
            _alert_not_caught_up(self.project, due)
        model = self.project.tracker.load(self.project.settings.model.alias)
        outcomes: list[WindowOutcome] = []
        *missed, latest = due.windows
        log.info(
            "tick: %d missed window(s) to catch up, then the current one starting %s",
            len(missed),
            latest.start.isoformat(),
        )
        for window in missed:
            if self._stop.is_set():
                break  # the windows found without input are still alerted on
            outcome = run_scheduled_window(
                self.project, window, model, self._stop, retry_missing=False, alert_missing=False
            )
            if outcome is not None:
                outcomes.append(outcome)
        without_input = [o for o in outcomes if o.missing_input]
        if without_input:
            alert_missing_input(
                self.project,
                [o.window for o in without_input],
                without_input[-1].error or "no input",
                attempts=1,
                run_id=without_input[-1].run_id,
            )
        if not self._stop.is_set():
            outcome = run_scheduled_window(self.project, latest, model, self._stop)
            if outcome is not None:
                outcomes.append(outcome)
        past = [o for o in outcomes if o.past]
        findings = [finding for o in past for finding in o.held]
        notify_backfill(self.project.name, findings, len(past), self.project.alert_sinks)
        if not self._stop.is_set():
            self._ingest_labels(latest.end)
            self._retrain(outcomes)
        return outcomes

    def _ingest_labels(self, until: datetime) -> None:
        """Join the labels that arrived since the last ingest; a failure waits for the next tick."""
        try:
            found = ingest_due(self.project, until)
        except Exception:
            log.exception(
                "labels ingest of %s failed; the next tick tries again", self.project.name
            )
            return
        if found is not None:
            log.info(
                "labels: %d read, %d matched, %d unmatched, %d duplicates, %d invalid, %d overdue",
                found.labels_read,
                found.matched,
                found.unmatched,
                found.duplicates,
                found.invalid,
                found.overdue,
            )

    def _retrain(self, outcomes: list[WindowOutcome]) -> None:
        """Let the retraining policy act on the alerts this tick's windows raised."""
        if self.project.settings.retraining is None:
            return
        run_ids = {o.run_id for o in outcomes if o.run_id is not None and not o.past}
        open_alerts = self.project.store.alerts(
            status="open", pipeline=self.project.name, limit=_OPEN_ALERTS
        )
        rules = [alert.rule for alert in open_alerts if alert.run_id in run_ids]
        try:
            retrain_on_alerts(self.project, rules)
        except Exception:  # a retraining that breaks must not stop the windows
            log.exception("retraining %s failed", self.project.name)


def trigger_of(cadence: Cadence) -> BaseTrigger:
    """The APScheduler trigger that fires at each window's end."""
    if isinstance(cadence, timedelta):
        grid_point = latest_complete_window(cadence).end
        return IntervalTrigger(seconds=cadence.total_seconds(), start_date=grid_point, timezone=UTC)
    return cadence.trigger()


def describe(cadence: Cadence) -> str:
    """'every 0:15:00' or "cron '*/15 * * * *' (UTC)"."""
    if isinstance(cadence, timedelta):
        return f"every {cadence}"
    return f"cron {cadence.expression!r} ({cadence.timezone})"


def _alert_not_caught_up(project: Project, due: DueWindows) -> None:
    """Warn (log and alert) about missed windows older than the catch-up limit."""
    assert due.not_caught_up is not None
    start, end = due.not_caught_up
    limit = project.settings.schedule.catch_up_max
    message = (
        f"windows from {start.isoformat()} to {end.isoformat()} were missed and are older than "
        f"the {limit} caught up (schedule.catch_up_max); run them with "
        f"`shipml run --start {start.isoformat()} --end {end.isoformat()}`"
    )
    log.warning("%s", message)
    candidate = CandidateAlert(
        rule=CATCH_UP_LIMIT,
        column=None,
        value=limit,
        threshold=limit,
        severity="warning",
        message=message,
    )
    raise_scheduler_alert(project, candidate, run_id=None, window_start=start)
