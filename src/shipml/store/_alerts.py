"""Alerts with deduplication: at most one open alert per (pipeline, rule, column)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shipml.errors import AlertNotFound
from shipml.store._checks import (
    check_choice,
    check_count,
    check_number,
    check_optional_text,
    check_text,
)
from shipml.store._clock import to_utc_or_none, utc_now
from shipml.store.schema import Alert

SEVERITIES = ("info", "warning", "critical")
ALERT_STATUSES = ("open", "closed")


def raise_alert(
    session: Session,
    *,
    pipeline: str,
    rule: str,
    column: str | None,
    message: str,
    severity: str,
    value: float | None,
    threshold: float | None,
    run_id: str | None,
    window_start: datetime | None,
) -> tuple[Alert, bool]:
    """Open an alert, or refresh the open one with the same key; True when newly opened."""
    check_text(pipeline, "pipeline", 200)
    check_text(rule, "rule", 100)
    check_optional_text(column, "column", 200)
    now = utc_now()
    alert = find_open(session, pipeline, rule, column)
    is_new = alert is None
    if alert is None:
        alert = Alert(
            pipeline=pipeline,
            rule=rule,
            column=column,
            status="open",
            opened_at=now,
            occurrences=0,
            first_window_start=to_utc_or_none(window_start, "window_start"),
        )
        session.add(alert)
    alert.message = check_text(message, "message", 1_000_000, allow_empty=True)
    alert.severity = check_choice(severity, SEVERITIES, "severity")
    alert.value = check_number(value, "value")
    alert.threshold = check_number(threshold, "threshold")
    alert.run_id = run_id
    alert.window_start = to_utc_or_none(window_start, "window_start")
    alert.last_seen_at = now
    alert.occurrences += 1
    return alert, is_new


def find_open(session: Session, pipeline: str, rule: str, column: str | None) -> Alert | None:
    """The open alert of (pipeline, rule, column), if any, locked until the transaction ends.

    The row lock (FOR UPDATE, a no-op on SQLite whose writers already queue) keeps two
    concurrent raisers on PostgreSQL from both reading occurrences=n and writing n+1.
    """
    query = select(Alert).where(
        Alert.pipeline == pipeline,
        Alert.rule == rule,
        Alert.column.is_(None) if column is None else Alert.column == column,
        Alert.status == "open",
    )
    return session.scalars(query.with_for_update()).first()


def close(session: Session, alert: Alert, window_start: datetime | None = None) -> Alert:
    """Mark an alert closed, by the window `window_start` if given (closing twice does nothing)."""
    if alert.status == "open":
        alert.status = "closed"
        alert.closed_at = utc_now()
        alert.closed_window_start = to_utc_or_none(window_start, "window_start")
    return alert


def require_alert(session: Session, alert_id: int) -> Alert:
    """The alert with id `alert_id`, or AlertNotFound."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(f"no alert with id {alert_id!r}")
    return alert


def find_alerts(
    session: Session, *, status: str | None, pipeline: str | None, limit: int
) -> list[Alert]:
    """Alerts most recently seen first."""
    query = select(Alert).order_by(Alert.last_seen_at.desc(), Alert.id.desc())
    if status is not None:
        query = query.where(Alert.status == check_choice(status, ALERT_STATUSES, "alert status"))
    if pipeline is not None:
        query = query.where(Alert.pipeline == pipeline)
    return list(session.scalars(query.limit(check_count(limit, "limit"))))


def alerts_of_run(session: Session, run_id: str) -> list[Alert]:
    """Alerts last raised by a run."""
    return list(session.scalars(select(Alert).where(Alert.run_id == run_id).order_by(Alert.id)))
