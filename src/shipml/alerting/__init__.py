"""Alerts: one open alert per (pipeline, rule, column) in the run store, sent once to sinks.

`raise_alerts` opens, refreshes and closes alerts in the store; only newly opened ones go to
the sinks (the log, and a webhook when `SHIPML_ALERTS__WEBHOOK_URL` is set). `windows` keeps
alert state in window time: failed windows, missing input, and past windows held back.
"""

from shipml.alerting.kept import keep_in_store, resend_kept
from shipml.alerting.sinks import (
    ALERT_LOGGER,
    AlertNotice,
    AlertSink,
    AlertsSettings,
    LogSink,
    WebhookSink,
    deliver_before_exit,
)
from shipml.alerting.state import (
    checks_of,
    has_critical,
    notify,
    raise_alerts,
    raise_window_alerts,
)
from shipml.alerting.windows import (
    BACKFILL_SUMMARY,
    MISSING_INPUT,
    WINDOW_FAILED,
    HeldFinding,
    clear_failure,
    clear_missing_input,
    held,
    is_past,
    notify_backfill,
    raise_failure,
    raise_missing_input,
)

__all__ = [
    "ALERT_LOGGER",
    "BACKFILL_SUMMARY",
    "MISSING_INPUT",
    "WINDOW_FAILED",
    "AlertNotice",
    "AlertSink",
    "AlertsSettings",
    "HeldFinding",
    "LogSink",
    "WebhookSink",
    "checks_of",
    "clear_failure",
    "clear_missing_input",
    "deliver_before_exit",
    "has_critical",
    "held",
    "is_past",
    "keep_in_store",
    "notify",
    "notify_backfill",
    "raise_alerts",
    "raise_failure",
    "raise_missing_input",
    "raise_window_alerts",
    "resend_kept",
]
