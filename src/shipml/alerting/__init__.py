"""Alerts: one open alert per (pipeline, rule, column) in the run store, sent once to sinks.

`raise_alerts` opens, refreshes and closes alerts in the store; only newly opened ones go to
the sinks (the log, and a webhook when `SHIPML_ALERTS__WEBHOOK_URL` is set).
"""

from shipml.alerting.sinks import (
    ALERT_LOGGER,
    AlertNotice,
    AlertSink,
    AlertsSettings,
    LogSink,
    WebhookSink,
)
from shipml.alerting.state import checks_of, has_critical, raise_alerts, raise_window_alerts

__all__ = [
    "ALERT_LOGGER",
    "AlertNotice",
    "AlertSink",
    "AlertsSettings",
    "LogSink",
    "WebhookSink",
    "checks_of",
    "has_critical",
    "raise_alerts",
    "raise_window_alerts",
]
