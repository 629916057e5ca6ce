"""The report's one entry point: the charts, tables and page of a period's windows."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shipml.errors import MonitoringError
from shipml.monitoring.baseline import MonitoringBaseline
from shipml.monitoring.performance import PerformanceRecord
from shipml.project.failures import FailedWindow
from shipml.project.history import MonitoredWindow
from shipml.project.report._charts import (
    alerts_figure,
    drift_figure,
    latency_figure,
    shift_figure,
)
from shipml.project.report._page import LOADER, PAGE, chart_section, plotly_gzip_base64
from shipml.project.report._performance import performance_figure, performance_table
from shipml.project.report._predictions import prediction_figure
from shipml.project.report._shadow import shadow_sections
from shipml.project.report._tables import (
    failed_table,
    latest_drift_table,
    open_alerts_table,
    summary,
)
from shipml.project.report._time import on_window_time, time_span, window_times

if TYPE_CHECKING:
    from shipml.store import AlertRecord


CHART_IDS = ("drift", "shift", "predictions", "latency", "alerts")


def render_report(
    pipeline: str,
    baseline: MonitoringBaseline | None,
    windows: Sequence[MonitoredWindow],
    alerts: Sequence[AlertRecord],
    *,
    failed: Sequence[FailedWindow] = (),
    generated_at: datetime | None = None,
    performance: Sequence[PerformanceRecord] = (),
) -> str:
    """The report as one HTML document (windows oldest first; alerts of the same period).

    `failed` are the windows of the period whose latest run failed (they have no profile).
    `performance` are the windows' performance records, realized and estimated (oldest
    first): a chart and a table when there are any.
    """
    if not windows and not failed:
        raise MonitoringError(f"no monitored windows of {pipeline!r} to report on")
    now = generated_at or datetime.now(UTC)
    times = window_times(windows)
    span = time_span(windows, failed)
    charts = [
        ("drift", "Feature drift", _DRIFT_NOTE, drift_figure(windows, times)),
        ("shift", "Prediction shift", _SHIFT_NOTE, shift_figure(windows, times)),
        (
            "predictions",
            "Prediction distribution",
            _PREDICTIONS_NOTE,
            prediction_figure(baseline, windows),
        ),
        ("latency", "Latency", _LATENCY_NOTE, latency_figure(windows, times)),
        ("alerts", "Alerts", _ALERTS_NOTE, alerts_figure(alerts)),
    ]
    if performance:
        charts.insert(
            2,
            (
                "performance",
                "Model performance",
                _PERFORMANCE_NOTE,
                performance_figure(performance),
            ),
        )
    for chart_id, _, _, figure in charts:
        if chart_id != "predictions":
            on_window_time(figure, span, failed)
    body = "\n".join(
        [
            summary(pipeline, baseline, windows, alerts, failed, now),
            *(chart_section(*chart) for chart in charts),
            shadow_sections(windows, times),
            failed_table(failed),
            performance_table(performance) if performance else "",
            latest_drift_table(windows[-1]) if windows else "",
            open_alerts_table(alerts),
        ]
    )
    return PAGE.format(
        title=html.escape(f"shipml monitoring: {pipeline}"),
        body=body,
        plotly=plotly_gzip_base64(),
        loader=LOADER,
    )


_DRIFT_NOTE = (
    "Each cell is a column's drift score divided by its threshold in one window: "
    "1 is the threshold, above it the column drifted. Null-rate rows appear for columns "
    "whose null rate drifted at least once."
)


_SHIFT_NOTE = (
    "z-score of the window's prediction statistic against the baseline chunks of the "
    "window's size; the dashed lines are +/- k. Red markers are windows that shifted."
)


_PREDICTIONS_NOTE = (
    "Share of predictions per baseline bin: the training holdout, all windows shown "
    "together, and the latest window."
)


_LATENCY_NOTE = (
    "Percentiles per window, in milliseconds, of the end-to-end latency (of the busiest "
    "step when no end-to-end latency was recorded)."
)


_PERFORMANCE_NOTE = (
    "Each judged metric per window over window time: realized from the labels joined to the "
    "window's predictions (solid) and estimated before labels from the calibrated "
    "probabilities (CBPE, dashed, same colour), and the realized metric's mean over holdout "
    "chunks of the window's size (dotted). Red markers are degraded windows (more than k "
    "sigma worse than the chunks)."
)


_ALERTS_NOTE = (
    "Each line is one alert in window time: from the first window that raised it to the "
    "window that cleared it or, while it is open, the last window that raised it."
)
