"""Raising a window's alerts: store them (deduplicated), notify sinks once, close cleared ones.

The store keeps at most one open alert per (pipeline, rule, column). Each window:

- every candidate opens that alert, or refreshes the open one (occurrences + 1);
- only newly opened alerts go to the sinks, so a condition that lasts for a hundred
  windows sends one notification, not a hundred;
- an open alert whose rule was checked on its column in this window and did not fire
  is closed: the condition cleared. A later recurrence opens (and notifies) a new alert.

Which checks ran matters: an online window that measured no drift must not close a
batch window's drift alert. `raise_window_alerts` derives the checks from the
evaluation; `raise_alerts` takes them explicitly (or, with `checked=None`, treats every
open alert of the pipeline as checked).

This is the one monitoring module that talks to the run store.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from shipml.alerting.sinks import AlertNotice, AlertSink
from shipml.monitoring.alerts import ESTIMATED_PERFORMANCE, PREDICTION_SHIFT, CandidateAlert
from shipml.monitoring.latency import PERCENTILES
from shipml.monitoring.window import WindowEvaluation
from shipml.store import AlertOutcome, AlertRecord, RunStore

logger = logging.getLogger(__name__)

CheckKey = tuple[str, str | None]  # (rule, column)
_MAX_OPEN_ALERTS = 100_000


def raise_alerts(
    store: RunStore,
    pipeline: str,
    candidates: Iterable[CandidateAlert],
    *,
    run_id: str | None,
    window_start: datetime | None,
    sinks: Sequence[AlertSink],
    checked: Collection[CheckKey] | None = None,
) -> list[AlertOutcome]:
    """Open or refresh an alert per candidate, notify sinks of new ones, close cleared ones."""
    candidates = list(candidates)
    outcomes = [
        store.open_alert(
            pipeline,
            candidate.rule,
            candidate.message,
            column=candidate.column,
            severity=candidate.severity,
            value=candidate.value,
            threshold=candidate.threshold,
            run_id=run_id,
            window_start=window_start,
        )
        for candidate in candidates
    ]
    firing = {(candidate.rule, candidate.column) for candidate in candidates}
    _close_cleared(store, pipeline, firing, checked, window_start)
    for outcome in outcomes:
        if outcome.is_new:
            notify(sinks, notice_of(outcome.alert))
    return outcomes


def raise_window_alerts(
    store: RunStore,
    pipeline: str,
    evaluation: WindowEvaluation,
    *,
    run_id: str | None,
    window_start: datetime | None,
    sinks: Sequence[AlertSink],
) -> list[AlertOutcome]:
    """`raise_alerts` for an evaluated window: closes only alerts of checks that ran."""
    return raise_alerts(
        store,
        pipeline,
        evaluation.alerts,
        run_id=run_id,
        window_start=window_start,
        sinks=sinks,
        checked=checks_of(evaluation),
    )


def checks_of(evaluation: WindowEvaluation) -> set[CheckKey]:
    """The (rule, column) pairs an evaluation decided on, firing or not."""
    checks: set[CheckKey] = {
        (f"drift.{result.method}", result.column)
        for result in evaluation.drift
        if result.value is not None
    }
    checks.update((PREDICTION_SHIFT, subject) for subject in evaluation.shift_subjects)
    checks.update(
        (ESTIMATED_PERFORMANCE, result.metric)
        for result in evaluation.performance
        if result.baseline_std is not None
    )
    for step, summary in evaluation.latency.items():
        if summary.count > 0:
            checks.update((f"latency.{percentile}", step) for percentile in PERCENTILES)
    return checks


def has_critical(outcomes: Iterable[AlertOutcome]) -> bool:
    """Whether any alert raised (new or refreshed) is critical: a failing batch exits non-zero."""
    return any(outcome.alert.severity == "critical" for outcome in outcomes)


def notice_of(alert: AlertRecord) -> AlertNotice:
    """The sink-facing view of a stored alert."""
    return AlertNotice(
        pipeline=alert.pipeline,
        rule=alert.rule,
        column=alert.column,
        severity=alert.severity,
        message=alert.message,
        value=alert.value,
        threshold=alert.threshold,
        alert_id=alert.id,
        run_id=alert.run_id,
        window_start=alert.window_start,
        opened_at=alert.opened_at,
    )


def _close_cleared(
    store: RunStore,
    pipeline: str,
    firing: set[CheckKey],
    checked: Collection[CheckKey] | None,
    window_start: datetime | None,
) -> None:
    for alert in store.alerts(status="open", pipeline=pipeline, limit=_MAX_OPEN_ALERTS):
        key = (alert.rule, alert.column)
        if key in firing or (checked is not None and key not in checked):
            continue
        store.close_open_alert(pipeline, alert.rule, alert.column, window_start=window_start)
        logger.info("alert cleared: %s %s on %s", pipeline, alert.rule, alert.column)


def notify(sinks: Sequence[AlertSink], notice: AlertNotice) -> None:
    """Hand `notice` to every sink; a sink that raises is logged, never fails the caller."""
    for sink in sinks:
        try:
            sink.send(notice)
        except Exception:  # a broken sink must not fail the window that raised the alert
            logger.exception("alert sink %r failed for %s", sink, notice.rule)
