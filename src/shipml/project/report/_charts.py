"""The charts over window time: feature drift, prediction shift, latency, alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from shipml.monitoring.drift import NULL_RATE
from shipml.monitoring.latency import END_TO_END
from shipml.project.history import MonitoredWindow
from shipml.project.report._page import SEVERITY_COLOURS, note, styled

if TYPE_CHECKING:
    from shipml.store import AlertRecord

_DRIFT_SCALE = [[0.0, "#f7fbf4"], [0.5, "#f6d55c"], [1.0, "#c0392b"]]  # 1 x threshold = middle


_NOT_CHECKED_SCALE = [[0.0, "#d5d8dc"], [1.0, "#d5d8dc"]]


NOT_CHECKED = "not checked (n < min)"


def drift_figure(windows: Sequence[MonitoredWindow], times: np.ndarray) -> go.Figure:
    """Each column's drift score / threshold per window, as a heatmap (grey: not checked)."""
    rows = _drift_rows(windows)
    if not rows:
        figure = go.Figure()
        note(figure, "no drift checks in these windows")
        return styled(figure, 260, xaxis={"type": "date"})
    ratios = np.full((len(rows), len(windows)), np.nan, dtype=np.float32)
    unchecked = np.full((len(rows), len(windows)), np.nan, dtype=np.float32)
    position = {key: index for index, key in enumerate(rows)}
    for index, window in enumerate(windows):
        for result in window.evaluation.drift:
            row = position.get((result.column, result.method))
            if row is None:
                continue
            if result.value is None:
                unchecked[row, index] = 1.0
            elif result.threshold > 0:
                ratios[row, index] = abs(result.value) / result.threshold
    labels = [f"{name} ({method})" for name, method in rows]
    figure = go.Figure(
        [
            go.Heatmap(
                x=times,
                y=labels,
                z=ratios,
                zmin=0.0,
                zmax=2.0,
                colorscale=_DRIFT_SCALE,
                colorbar={"title": {"text": "x threshold"}},
                name="drift",
                hovertemplate="%{y}<br>%{x}<br>%{z:.2f} x threshold<extra></extra>",
            ),
            go.Heatmap(
                x=times,
                y=labels,
                z=unchecked,
                zmin=0.0,
                zmax=1.0,
                colorscale=_NOT_CHECKED_SCALE,
                showscale=False,
                name=NOT_CHECKED,
                hovertemplate=f"%{{y}}<br>%{{x}}<br>{NOT_CHECKED}<extra></extra>",
            ),
        ]
    )
    height = max(260, 22 * len(rows) + 110)
    return styled(figure, height, xaxis={"type": "date"}, yaxis={"autorange": "reversed"})


def _drift_rows(windows: Sequence[MonitoredWindow]) -> list[tuple[str, str]]:
    """(column, method) of every distribution check, then of null-rate checks that fired."""
    distribution: dict[tuple[str, str], None] = {}
    null_rates: dict[tuple[str, str], None] = {}
    for window in windows:
        for result in window.evaluation.drift:
            key = (result.column, result.method)
            if result.method != NULL_RATE:
                distribution[key] = None
            elif result.drifted:
                null_rates[key] = None
    return [*distribution, *null_rates]


def shift_figure(windows: Sequence[MonitoredWindow], times: np.ndarray) -> go.Figure:
    """The prediction-shift z per window against +/- k, shifted windows in red."""
    shifts = [window.evaluation.shift for window in windows]
    z = np.asarray([np.nan if s is None or s.z is None else s.z for s in shifts], dtype=np.float32)
    shifted = np.asarray([s is not None and s.shifted for s in shifts])
    figure = go.Figure(
        [
            go.Scatter(x=times, y=z, mode="lines", name="z", line={"color": "#34495e"}),
            go.Scatter(
                x=times[shifted],
                y=z[shifted],
                mode="markers",
                name="shifted",
                marker={"color": SEVERITY_COLOURS["critical"], "size": 7},
            ),
        ]
    )
    known = [s for s in shifts if s is not None]
    if known:
        k = known[-1].k
        for bound in (k, -k):
            figure.add_hline(y=bound, line={"dash": "dash", "color": "#7f8c8d", "width": 1})
    else:
        note(figure, "no window had predictions to compare with the baseline")
    return styled(figure, 300, xaxis={"type": "date"}, yaxis={"title": {"text": "z"}})


def latency_figure(windows: Sequence[MonitoredWindow], times: np.ndarray) -> go.Figure:
    """Latency percentiles per window, in milliseconds."""
    step = _latency_step(windows)
    figure = go.Figure()
    if step is None:
        note(figure, "no latency was recorded in these windows")
        return styled(figure, 300)
    for percentile, colour in (("p50", "#27ae60"), ("p95", "#e67e22"), ("p99", "#c0392b")):
        values = [
            milliseconds(getattr(w.evaluation.latency.get(step), percentile, None)) for w in windows
        ]
        figure.add_scatter(
            x=times,
            y=np.asarray(values, dtype=np.float32),
            mode="lines",
            name=percentile,
            line={"color": colour},
        )
    return styled(figure, 300, xaxis={"type": "date"}, yaxis={"title": {"text": f"{step} (ms)"}})


def _latency_step(windows: Sequence[MonitoredWindow]) -> str | None:
    """The end-to-end step when recorded, else the step with the most observations."""
    observed: dict[str, int] = {}
    for window in windows:
        for step, summary in window.evaluation.latency.items():
            observed[step] = observed.get(step, 0) + summary.count
    if END_TO_END in observed:
        return END_TO_END
    return max(observed, key=observed.__getitem__) if observed else None


def milliseconds(seconds: float | None) -> float:
    """Seconds as milliseconds (NaN for none)."""
    return np.nan if seconds is None else seconds * 1000.0


def alerts_figure(alerts: Sequence[AlertRecord]) -> go.Figure:
    """Each alert as a line over the windows that raised it, coloured by severity."""
    figure = go.Figure()
    if not alerts:
        note(figure, "no alerts")
        return styled(figure, 200, xaxis={"type": "date"})
    labels = sorted({_alert_label(alert) for alert in alerts})
    row = {label: index for index, label in enumerate(labels)}
    for severity, colour in SEVERITY_COLOURS.items():
        chosen = [alert for alert in alerts if alert.severity == severity]
        if not chosen:
            continue
        x, y, text = [], [], []
        for alert in chosen:  # one segment per alert; NaN breaks the line between them
            start, end = _alert_window_span(alert)
            label = _alert_label(alert)
            x += [start.timestamp() * 1000.0, end.timestamp() * 1000.0, np.nan]
            y += [row[label], row[label], np.nan]
            text += [label, label, ""]
        figure.add_scatter(
            x=np.asarray(x),
            y=np.asarray(y, dtype=np.float32),
            text=text,
            mode="lines+markers",
            name=severity,
            line={"color": colour, "width": 4},
            marker={"size": 6},
            hovertemplate="%{text}<br>%{x}<extra></extra>",
        )
    height = max(200, 24 * len(labels) + 110)
    return styled(
        figure,
        height,
        xaxis={"type": "date"},
        yaxis={"tickvals": list(range(len(labels))), "ticktext": labels, "autorange": "reversed"},
    )


def _alert_window_span(alert: AlertRecord) -> tuple[datetime, datetime]:
    """In window time: the first window that raised it, to the one that cleared it (or the
    last that raised it); alerts stored before windows were kept fall back to wall time."""
    start = alert.first_window_start or alert.window_start or alert.opened_at
    end = alert.closed_window_start or alert.window_start
    if end is None:
        end = alert.closed_at or alert.last_seen_at
    return start, max(start, end)


def _alert_label(alert: AlertRecord) -> str:
    return alert.rule if alert.column is None else f"{alert.rule} · {alert.column}"
