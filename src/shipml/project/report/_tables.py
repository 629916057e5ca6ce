"""The tables: the summary, failed windows, the latest drift checks, open alerts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from shipml.monitoring.baseline import MonitoringBaseline
from shipml.monitoring.drift import DriftResult
from shipml.project.failures import FailedWindow
from shipml.project.history import MonitoredWindow
from shipml.project.report._charts import NOT_CHECKED
from shipml.project.report._page import count, table_section, when
from shipml.project.report._time import time_span

if TYPE_CHECKING:
    from shipml.store import AlertRecord


def summary(
    pipeline: str,
    baseline: MonitoringBaseline | None,
    windows: Sequence[MonitoredWindow],
    alerts: Sequence[AlertRecord],
    failed: Sequence[FailedWindow],
    now: datetime,
) -> str:
    """The header: the pipeline, its windows and period, failures, drift and open alerts."""
    first, last = time_span(windows, failed)
    open_alerts = [alert for alert in alerts if alert.status == "open"]
    critical = sum(alert.severity == "critical" for alert in open_alerts)
    unchecked = sum(1 for w in windows if w.evaluation.drift and not w.evaluation.drift_checked)
    facts = {
        "pipeline": pipeline,
        "windows": f"{len(windows) + len(failed)}, {when(first)} to {when(last)}",
        "failed windows": str(len(failed)),
        "drift not checked": f"{unchecked} window(s) (fewer values than drift_min_rows)",
        "baseline": "none stored"
        if baseline is None
        else f"prediction '{baseline.predictions.column}' ({baseline.predictions.statistic}), "
        f"{baseline.predictions.rows} holdout rows",
        "open alerts": f"{len(open_alerts)} ({critical} critical)",
        "generated": when(now),
    }
    rows = "".join(
        f"<tr><th>{html.escape(key)}</th><td>{html.escape(value)}</td></tr>"
        for key, value in facts.items()
    )
    return f"<h1>{html.escape(pipeline)}: monitoring</h1><table class='facts'>{rows}</table>"


def failed_table(failed: Sequence[FailedWindow]) -> str:
    """The failed windows of the period, with their diagnoses."""
    header = ("window", "kind", "run", "rows in", "valid", "invalid", "diagnosis")
    rows = [
        [
            when(window.start),
            window.kind,
            window.run_id[:12],
            *(count(n) for n in (window.rows_in, window.rows_valid, window.rows_invalid)),
            window.reason,
        ]
        for window in failed
    ]
    return table_section("failed-windows", f"Failed windows ({len(failed)})", header, rows)


def latest_drift_table(window: MonitoredWindow) -> str:
    """The latest window's drift checks, one row per column and method."""
    header = ("column", "check", "value", "threshold", "drifted", "judged on")
    rows = [_drift_row(result) for result in window.evaluation.drift]
    title = f"Latest window ({when(window.start)}, {window.kind})"
    return table_section("latest", title, header, rows)


def _drift_row(result: DriftResult) -> list[str]:
    value = "" if result.value is None else f"{result.value:.4g}"
    return [
        result.column,
        result.method,
        value,
        f"{result.threshold:g}",
        NOT_CHECKED if result.value is None else "yes" if result.drifted else "no",
        result.note or f"{result.current_count} values",
    ]


def open_alerts_table(alerts: Sequence[AlertRecord]) -> str:
    """The alerts still open."""
    header = ("severity", "rule", "column", "opened", "last seen", "times", "message")
    rows = [
        [
            a.severity,
            a.rule,
            a.column or "",
            when(a.opened_at),
            when(a.last_seen_at),
            str(a.occurrences),
            a.message,
        ]
        for a in alerts
        if a.status == "open"
    ]
    return table_section("open-alerts", "Open alerts", header, rows)
