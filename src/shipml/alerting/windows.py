"""Alert state by window time: failed windows as alerts, and no paging about the past.

- A window that fails raises the critical `window_failed` alert of its pipeline and kind
  (column "batch" or "online"; one open at a time: failures in a row refresh it, notified
  once); the next window of the same kind that succeeds, at or after the failed one,
  closes it. An online window fails when most of its records were rejected.
- A window is *past* when a later window of the same kind already finished. A past window
  (a re-run with --force, a backfill) updates its own findings and history, but changes no
  alert and notifies nobody: what it would have raised is *held*, and the caller sends at
  most one summary for a whole backfill (`notify_backfill`), of the windows run for the
  first time: a re-run of a window that already ran tells nothing new to anyone on call.
- Missing input is one `missing_input` alert per pipeline, carrying the count and the
  range of the windows without input; it closes once every one of them has succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shipml.alerting.sinks import AlertNotice, AlertSink
from shipml.alerting.state import notify, raise_alerts
from shipml.monitoring.alerts import CandidateAlert, Severity
from shipml.store import AlertOutcome, AlertRecord, RunStore

logger = logging.getLogger(__name__)

WINDOW_FAILED = "window_failed"
MISSING_INPUT = "missing_input"
BACKFILL_SUMMARY = "backfill_summary"
WindowKind = Literal["batch", "online"]
_SEVERITY_ORDER: dict[Severity, int] = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class HeldFinding:
    """What a past window would have raised, had it been the latest window."""

    window_start: datetime
    rule: str
    column: str | None
    severity: Severity
    message: str
    rerun: bool = False  # the window had run before: its findings were known then


def is_past(store: RunStore, pipeline: str, window_start: datetime, kind: WindowKind) -> bool:
    """Whether a later window of the same kind already finished: then `window_start` is past."""
    return store.later_window_finished(pipeline, window_start, kind)


def held(
    window_start: datetime, candidates: Sequence[CandidateAlert], *, rerun: bool = False
) -> list[HeldFinding]:
    """The findings of a past window, kept for a summary instead of alerts."""
    return [
        HeldFinding(window_start, c.rule, c.column, c.severity, c.message, rerun)
        for c in candidates
    ]


def failure_candidate(reason: str, window_key: str, kind: WindowKind = "batch") -> CandidateAlert:
    """The critical `window_failed` candidate of a window that failed for `reason`."""
    return CandidateAlert(
        rule=WINDOW_FAILED,
        column=kind,
        value=1.0,
        threshold=0.0,
        severity="critical",
        message=f"window {window_key} failed: {reason}",
    )


def raise_failure(
    store: RunStore,
    pipeline: str,
    reason: str,
    *,
    window_key: str,
    run_id: str | None,
    window_start: datetime,
    sinks: Sequence[AlertSink],
    kind: WindowKind = "batch",
) -> AlertOutcome:
    """Open (or refresh) the `window_failed` alert of the pipeline's `kind` of windows;
    notify when newly opened."""
    candidate = failure_candidate(reason, window_key, kind)
    [outcome] = raise_alerts(
        store,
        pipeline,
        [candidate],
        run_id=run_id,
        window_start=window_start,
        sinks=sinks,
        checked={(WINDOW_FAILED, kind)},  # close no other alert
    )
    return outcome


def clear_failure(
    store: RunStore, pipeline: str, window_start: datetime, kind: WindowKind = "batch"
) -> AlertRecord | None:
    """Close the `window_failed` alert of `kind` when `window_start` is at or after the failed
    window (a succeeded window of that kind calls this)."""
    alert = _open(store, pipeline, WINDOW_FAILED, kind)
    if alert is None or (alert.window_start is not None and alert.window_start > window_start):
        return None
    closed = store.close_open_alert(pipeline, WINDOW_FAILED, kind, window_start=window_start)
    logger.info("alert cleared: %s %s by window %s", pipeline, WINDOW_FAILED, window_start)
    return closed


def raise_missing_input(
    store: RunStore,
    pipeline: str,
    windows: Sequence[tuple[datetime, datetime]],
    cause: str,
    *,
    run_id: str | None,
    sinks: Sequence[AlertSink],
) -> AlertOutcome:
    """One critical `missing_input` alert for the pipeline, counting the windows without input.

    `windows` are the [start, end) of the windows whose input is missing now; an open alert
    adds them to the ones it already counts (its range grows, it is not notified again).
    """
    if not windows:
        raise ValueError("raise_missing_input needs at least one window")
    open_alert = _open(store, pipeline, MISSING_INPUT)
    starts = sorted({start for start, _ in windows})
    first, last_end = starts[0], max(end for _, end in windows)
    count, latest = len(starts), starts[-1]
    if open_alert is not None and open_alert.first_window_start is not None:
        counted_until = open_alert.window_start or open_alert.first_window_start
        count = int(open_alert.value or 0) + sum(start > counted_until for start in starts)
        first = min(first, open_alert.first_window_start)
        latest = max(latest, counted_until)  # an older window (a backfill) keeps the range
    message = (
        f"input missing for {count} window(s), from {first.isoformat()} to "
        f"{last_end.isoformat()}; latest: {cause}"
    )
    candidate = CandidateAlert(
        rule=MISSING_INPUT,
        column=None,
        value=float(count),
        threshold=0.0,
        severity="critical",
        message=message,
    )
    [outcome] = raise_alerts(
        store,
        pipeline,
        [candidate],
        run_id=run_id,
        window_start=latest,
        sinks=sinks,
        checked={(MISSING_INPUT, None)},
    )
    return outcome


def clear_missing_input(store: RunStore, pipeline: str, window_start: datetime) -> None:
    """Close the `missing_input` alert once every window it counts has succeeded."""
    alert = _open(store, pipeline, MISSING_INPUT)
    if alert is None or alert.first_window_start is None or alert.window_start is None:
        return
    if not alert.first_window_start <= window_start <= alert.window_start:
        return
    statuses = store.latest_window_statuses(pipeline, alert.first_window_start, alert.window_start)
    if all(status == "succeeded" for status in statuses.values()):
        store.close_open_alert(pipeline, MISSING_INPUT, window_start=window_start)
        logger.info("alert cleared: %s %s: every window has its input now", pipeline, MISSING_INPUT)


def notify_backfill(
    pipeline: str,
    findings: Sequence[HeldFinding],
    windows: int,
    sinks: Sequence[AlertSink],
) -> AlertNotice | None:
    """Send one summary of a backfill's new findings (nothing when it found nothing new).

    Findings of re-run windows are left out: they were known when those windows first ran.
    """
    findings = [finding for finding in findings if not finding.rerun]
    if not findings:
        return None
    starts = [finding.window_start for finding in findings]
    failed = sum(finding.rule == WINDOW_FAILED for finding in findings)
    rules = sorted({finding.rule for finding in findings})
    severity = max((f.severity for f in findings), key=_SEVERITY_ORDER.__getitem__)
    message = (
        f"backfill of {windows} past window(s): {len(findings)} finding(s) in "
        f"{len(set(starts))} window(s) from {min(starts).isoformat()} to "
        f"{max(starts).isoformat()} ({failed} failed); rules: {', '.join(rules)}. "
        "Later windows had already run, so no alert was opened or closed."
    )
    notice = AlertNotice(
        pipeline=pipeline,
        rule=BACKFILL_SUMMARY,
        column=None,
        severity=severity,
        message=message,
        value=float(len(findings)),
        window_start=min(starts),
    )
    notify(sinks, notice)
    return notice


def _open(
    store: RunStore, pipeline: str, rule: str, column: str | None = None
) -> AlertRecord | None:
    for alert in store.alerts(status="open", pipeline=pipeline, limit=100_000):
        if alert.rule == rule and alert.column == column:
            return alert
    return None
