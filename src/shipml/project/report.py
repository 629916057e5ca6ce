"""The monitoring report: one self-contained HTML file that works offline.

Five plotly charts: feature drift per window as a heatmap of score / threshold, the
prediction-shift z-score per window against +/- k, the prediction distribution of the
baseline, of all windows shown and of the latest window, latency percentiles per window,
and an alerts timeline; when a challenger was scored in shadow beside the champion (online
windows), its agreement per window, both models' prediction distributions and a table per
window (records, agreement, dropped, failed, the challenger's latency); then tables of the
failed windows, of the latest window's drift checks and of the open alerts.

Every time axis is window time (when the data happened, not when it was run, so a
backfill reads right), spans exactly the windows shown, and marks each failed window with
a red band and a red cross whose hover gives the diagnosis. Drift checks that had too few
values (fewer than `drift_min_rows`, even over recent windows merged) are grey cells,
"not checked (n < min)", never an empty heatmap.

No CDN: plotly.js is embedded once. It is 4.8 MB as text, so it is embedded gzipped and
base64-encoded (1.96 MB) and inflated by the browser with `DecompressionStream` (Chrome
80+, Firefox 113+, Safari 16.4+); the figures are drawn once it is loaded. Series are
embedded as typed arrays (float32 values, float64 timestamps): 1,000 windows of 15
columns add about 0.2 MB.
"""

from __future__ import annotations

import base64
import gzip
import html
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from shipml.errors import MonitoringError
from shipml.monitoring.baseline import MonitoringBaseline
from shipml.monitoring.drift import NULL_RATE, DriftResult
from shipml.monitoring.latency import END_TO_END
from shipml.monitoring.performance import PerformanceRecord
from shipml.monitoring.profiles import (
    CategoricalColumnProfile,
    NumericColumnProfile,
    Profile,
    merge,
)
from shipml.project.failures import FailedWindow
from shipml.project.history import MonitoredWindow

if TYPE_CHECKING:
    from shipml.store import AlertRecord

ColumnProfileType = NumericColumnProfile | CategoricalColumnProfile

CHART_IDS = ("drift", "shift", "predictions", "latency", "alerts")
_SEVERITY_COLOURS = {"critical": "#c0392b", "warning": "#e67e22", "info": "#2980b9"}
_METRIC_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#7f7f7f")
_DRIFT_SCALE = [[0.0, "#f7fbf4"], [0.5, "#f6d55c"], [1.0, "#c0392b"]]  # 1 x threshold = middle
_NOT_CHECKED_SCALE = [[0.0, "#d5d8dc"], [1.0, "#d5d8dc"]]
NOT_CHECKED = "not checked (n < min)"
FAILED_TRACE = "failed window"
_FAILED_COLOUR = "#c0392b"
_LAYOUT = {
    "template": "none",
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "margin": {"l": 70, "r": 20, "t": 40, "b": 50},
    "hovermode": "closest",
    "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
}
_AXIS = {"showgrid": True, "gridcolor": "#e8e8e8", "zeroline": False, "automargin": True}


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
    times = _window_times(windows)
    span = _time_span(windows, failed)
    charts = [
        ("drift", "Feature drift", _DRIFT_NOTE, _drift_figure(windows, times)),
        ("shift", "Prediction shift", _SHIFT_NOTE, _shift_figure(windows, times)),
        (
            "predictions",
            "Prediction distribution",
            _PREDICTIONS_NOTE,
            _prediction_figure(baseline, windows),
        ),
        ("latency", "Latency", _LATENCY_NOTE, _latency_figure(windows, times)),
        ("alerts", "Alerts", _ALERTS_NOTE, _alerts_figure(alerts)),
    ]
    if performance:
        charts.insert(
            2,
            (
                "performance",
                "Model performance",
                _PERFORMANCE_NOTE,
                _performance_figure(performance),
            ),
        )
    for chart_id, _, _, figure in charts:
        if chart_id != "predictions":
            _on_window_time(figure, span, failed)
    body = "\n".join(
        [
            _summary(pipeline, baseline, windows, alerts, failed, now),
            *(_chart_section(*chart) for chart in charts),
            _shadow_sections(windows, times),
            _failed_table(failed),
            _performance_table(performance) if performance else "",
            _latest_drift_table(windows[-1]) if windows else "",
            _open_alerts_table(alerts),
        ]
    )
    return _PAGE.format(
        title=html.escape(f"shipml monitoring: {pipeline}"),
        body=body,
        plotly=_plotly_gzip_base64(),
        loader=_LOADER,
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


# Window time: one span for every time axis, failed windows marked on each


def _time_span(
    windows: Sequence[MonitoredWindow], failed: Sequence[FailedWindow]
) -> tuple[datetime, datetime]:
    """From the first window's start to the last one's end, failed windows included."""
    starts = [w.start or w.end for w in windows] + [w.start for w in failed]
    ends = [w.end or w.start for w in windows] + [w.end or w.start for w in failed]
    known_starts = [s for s in starts if s is not None]
    known_ends = [e for e in ends if e is not None]
    return min(known_starts), max(known_ends)


def _on_window_time(
    figure: go.Figure, span: tuple[datetime, datetime], failed: Sequence[FailedWindow]
) -> None:
    """Fix the x axis to the windows' span and mark every failed window (band and cross)."""
    first, last = span
    if first == last:
        first, last = first - timedelta(minutes=1), last + timedelta(minutes=1)
    figure.update_xaxes(type="date", range=[_iso(first), _iso(last)], autorange=False)
    if not failed:
        return
    for window in failed:
        figure.add_vrect(
            x0=_iso(window.start),
            x1=_iso(window.end or window.start),
            fillcolor=_FAILED_COLOUR,
            opacity=0.22,
            line_width=0,
            layer="above",  # over the heatmap's cells too
        )
    figure.add_scatter(
        x=np.asarray([w.start.timestamp() * 1000.0 for w in failed], dtype=np.float64),
        y=np.full(len(failed), 0.5, dtype=np.float32),
        yaxis="y9",
        mode="markers",
        name=FAILED_TRACE,
        marker={"symbol": "x", "size": 11, "color": _FAILED_COLOUR},
        text=[f"{_when(w.start)}: {w.reason}" for w in failed],
        hovertemplate="failed window %{text}<extra></extra>",
    )
    figure.update_layout(
        yaxis9={"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True}
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _window_times(windows: Sequence[MonitoredWindow]) -> np.ndarray:
    """Window starts as milliseconds since the epoch, which plotly's date axes read."""
    times = []
    for window in windows:
        when = window.start or window.end
        if when is None:
            raise MonitoringError(
                f"{window.kind} window of run {window.run_id} has neither start nor end"
            )
        times.append(when.timestamp() * 1000.0)
    return np.asarray(times, dtype=np.float64)


# Feature drift


def _drift_figure(windows: Sequence[MonitoredWindow], times: np.ndarray) -> go.Figure:
    rows = _drift_rows(windows)
    if not rows:
        figure = go.Figure()
        _note(figure, "no drift checks in these windows")
        return _styled(figure, 260, xaxis={"type": "date"})
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
    return _styled(figure, height, xaxis={"type": "date"}, yaxis={"autorange": "reversed"})


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


# Prediction shift


def _shift_figure(windows: Sequence[MonitoredWindow], times: np.ndarray) -> go.Figure:
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
                marker={"color": _SEVERITY_COLOURS["critical"], "size": 7},
            ),
        ]
    )
    known = [s for s in shifts if s is not None]
    if known:
        k = known[-1].k
        for bound in (k, -k):
            figure.add_hline(y=bound, line={"dash": "dash", "color": "#7f8c8d", "width": 1})
    else:
        _note(figure, "no window had predictions to compare with the baseline")
    return _styled(figure, 300, xaxis={"type": "date"}, yaxis={"title": {"text": "z"}})


# Model performance


def _performance_figure(records: Sequence[PerformanceRecord]) -> go.Figure:
    """Each judged metric as two series over window time: estimated and realized, one colour."""
    series: dict[tuple[str, str], list[tuple[datetime, float, float, bool]]] = {}
    for record in records:
        for result in record.results:
            point = (record.window_start, result.value, result.baseline_mean, result.degraded)
            series.setdefault((result.metric, record.kind), []).append(point)
    metrics = sorted({metric for metric, _ in series})
    figure = go.Figure()
    for (metric, kind), points in sorted(series.items()):
        times = [p[0] for p in points]
        colour = _METRIC_COLOURS[metrics.index(metric) % len(_METRIC_COLOURS)]
        dash = "solid" if kind == "realized" else "dash"
        figure.add_trace(
            go.Scatter(x=times, y=[p[1] for p in points], name=f"{kind} {metric}",
                       mode="lines+markers", legendgroup=metric,
                       line={"dash": dash, "color": colour})
        )  # fmt: skip
        if kind == "realized":
            figure.add_trace(
                go.Scatter(x=times, y=[p[2] for p in points], name=f"baseline {metric}",
                           mode="lines", legendgroup=metric,
                           line={"dash": "dot", "width": 1, "color": colour})
            )  # fmt: skip
        bad = [p for p in points if p[3]]
        if bad:
            figure.add_trace(
                go.Scatter(x=[p[0] for p in bad], y=[p[1] for p in bad], mode="markers",
                           name=f"degraded {kind} {metric}", legendgroup=metric,
                           marker={"color": _SEVERITY_COLOURS["critical"], "size": 9})
            )  # fmt: skip
    if not series:
        _note(figure, "no window has been judged yet (too few labels or holdout chunks)")
    return _styled(figure, 320, xaxis={"type": "date"})


def _performance_table(records: Sequence[PerformanceRecord]) -> str:
    header = ("window", "kind", "model", "labels", "metrics", "verdict")
    rows = []
    for record in reversed(records):
        verdict = record.reason or "not judged"
        if record.judged:
            worse = [r.metric for r in record.degraded]
            verdict = f"degraded: {', '.join(worse)}" if worse else "ok"
        shown = ", ".join(
            f"{r.metric} {r.value:.4g} (baseline {r.baseline_mean:.4g}, z {_z_text(r.z)})"
            for r in record.results
        ) or ", ".join(f"{name} {value:.4g}" for name, value in sorted(record.metrics.items())[:3])
        rows.append(
            [_when(record.window_start), record.kind, record.model_version or "-",
             str(record.labels) if record.kind == "realized" else "-", shown, verdict]
        )  # fmt: skip
    return _table_section("performance-windows", "Performance per window", header, rows)


def _z_text(z: float | None) -> str:
    return "undefined" if z is None else f"{z:+.2f}"


# Prediction distribution


def _prediction_figure(
    baseline: MonitoringBaseline | None, windows: Sequence[MonitoredWindow]
) -> go.Figure:
    if not windows:
        figure = go.Figure()
        _note(figure, "no window succeeded in this period")
        return _styled(figure, 320)
    name = _prediction_column(baseline, windows)
    reference = baseline.profile.columns[name] if baseline is not None else None
    comparable = _same_bins(name, reference, windows)
    figure = go.Figure()
    if not comparable:
        _note(figure, f"no window has the prediction column '{name}' on the baseline's bins")
        return _styled(figure, 320)
    merged = merge(Profile(columns={name: column}) for column in comparable).columns[name]
    series = [("latest window", comparable[-1]), ("windows shown", merged)]
    if reference is not None:
        series.insert(0, ("baseline", reference))
    labels = _bin_labels(merged)
    for label, column in series:
        figure.add_bar(x=labels, y=_shares(column), name=label)
    return _styled(
        figure,
        340,
        barmode="group",
        xaxis={"title": {"text": name}, "type": "category"},
        yaxis={"title": {"text": "share"}, "tickformat": ".0%"},
    )


def _prediction_column(
    baseline: MonitoringBaseline | None, windows: Sequence[MonitoredWindow]
) -> str:
    if baseline is not None:
        return baseline.predictions.column
    for window in reversed(windows):
        if window.evaluation.shift is not None:
            return window.evaluation.shift.column
    raise MonitoringError("without a baseline or a shift result there is no prediction column")


def _same_bins(
    name: str, reference: ColumnProfileType | None, windows: Sequence[MonitoredWindow]
) -> list[ColumnProfileType]:
    """The windows' profiles of column `name` binned like the reference (or the latest window)."""
    columns = [w.profile.columns[name] for w in windows if name in w.profile.columns]
    if not columns:
        return []
    spec = reference.spec if reference is not None else columns[-1].spec
    return [column for column in columns if column.spec == spec]


def _bin_labels(column: ColumnProfileType) -> list[str]:
    if isinstance(column, CategoricalColumnProfile):
        return [*column.categories, "(other)"]
    edges = column.edges
    inner = [
        f"{low:.3g}" if low == high else f"{low:.3g} to {high:.3g}" for low, high in pairwise(edges)
    ]
    if len(edges) == 2 and edges[0] == edges[1]:
        inner = [f"{edges[0]:.3g}"]
    return [f"< {edges[0]:.3g}", *inner, f"> {edges[-1]:.3g}"]


def _shares(column: ColumnProfileType) -> np.ndarray:
    counts = np.asarray(
        column.counts
        if isinstance(column, NumericColumnProfile)
        else [*column.counts, column.other],
        dtype=np.float64,
    )
    total = counts.sum()
    return (counts / total if total else counts).astype(np.float32)


# Challenger in shadow


def _shadow_sections(windows: Sequence[MonitoredWindow], times: np.ndarray) -> str:
    """The challenger scored beside the champion: agreement per window, both prediction
    distributions, and a table per window (nothing when no window had a challenger)."""
    shadowed = [(w, t) for w, t in zip(windows, times, strict=True) if w.shadow is not None]
    if not shadowed:
        return ""
    agreement = go.Figure()
    by_version: dict[str, list[tuple[float, float]]] = {}
    rows: list[list[str]] = []
    champion: ColumnProfileType | None = None
    challenger: ColumnProfileType | None = None
    for window, time in shadowed:
        assert window.shadow is not None
        for found in window.shadow.challengers:
            if found.agreement_rate is not None:
                by_version.setdefault(found.challenger_version, []).append(
                    (float(time), found.agreement_rate)
                )
            total = found.latency.steps.get(END_TO_END)
            summary = total.summary() if total is not None and total.count else None
            rows.append(
                [
                    _when(window.start),
                    f"v{found.challenger_version}",
                    str(found.records),
                    "" if found.agreement_rate is None else f"{found.agreement_rate:.1%}",
                    str(found.dropped),
                    str(found.failed),
                    "" if summary is None else f"{_milliseconds(summary.p50):.1f}",
                    "" if summary is None else f"{_milliseconds(summary.p99):.1f}",
                ]
            )
            champion = _merged_column(champion, found.champion)
            challenger = _merged_column(challenger, found.challenger)
    for version, points in by_version.items():
        x, y = zip(*points, strict=True)
        agreement.add_scatter(
            x=np.asarray(x),
            y=np.asarray(y, dtype=np.float32),
            mode="lines+markers",
            name=f"v{version}",
        )
    _styled(
        agreement,
        300,
        xaxis={"type": "date"},
        yaxis={"title": {"text": "agreement"}, "tickformat": ".0%", "range": [0, 1.05]},
    )
    distributions = go.Figure()
    if champion is not None and challenger is not None:
        labels = _bin_labels(champion)
        distributions.add_bar(x=labels, y=_shares(champion), name="champion")
        distributions.add_bar(x=labels, y=_shares(challenger), name="challenger")
    else:
        _note(distributions, "the predictions were not profiled (no bins to put them on)")
    _styled(
        distributions,
        320,
        barmode="group",
        xaxis={"type": "category"},
        yaxis={"title": {"text": "share"}, "tickformat": ".0%"},
    )
    header = (
        "window", "challenger", "records", "agreement", "dropped", "failed",
        "p50 ms", "p99 ms",
    )  # fmt: skip
    return "\n".join(
        [
            _chart_section(
                "challenger-agreement", "Challenger agreement", _AGREEMENT_NOTE, agreement
            ),
            _chart_section(
                "challenger-predictions",
                "Champion and challenger predictions",
                _BOTH_NOTE,
                distributions,
            ),
            _table_section("challenger", "Challenger in shadow, per window", header, rows),
        ]
    )


_AGREEMENT_NOTE = (
    "Share of the records scored by both models on which the challenger agreed with the "
    "champion's answer, per online window (binary classifiers: the same decision; numbers: "
    "within [serving] shadow_tolerance). p50/p99 below are the challenger's per shadow batch."
)
_BOTH_NOTE = (
    "Both models' predictions for the same records (those the challenger scored in shadow), "
    "on the champion's baseline bins, over the windows shown."
)


def _merged_column(
    merged: ColumnProfileType | None, found: Profile | None
) -> ColumnProfileType | None:
    if found is None or len(found.columns) != 1:
        return merged
    [column] = found.columns.values()
    if merged is None:
        return column
    if column.spec != merged.spec:
        return merged  # another champion's bins: left out of the merged distribution
    return merge([Profile(columns={"p": merged}), Profile(columns={"p": column})]).columns["p"]


# Latency


def _latency_figure(windows: Sequence[MonitoredWindow], times: np.ndarray) -> go.Figure:
    step = _latency_step(windows)
    figure = go.Figure()
    if step is None:
        _note(figure, "no latency was recorded in these windows")
        return _styled(figure, 300)
    for percentile, colour in (("p50", "#27ae60"), ("p95", "#e67e22"), ("p99", "#c0392b")):
        milliseconds = [
            _milliseconds(getattr(w.evaluation.latency.get(step), percentile, None))
            for w in windows
        ]
        figure.add_scatter(
            x=times,
            y=np.asarray(milliseconds, dtype=np.float32),
            mode="lines",
            name=percentile,
            line={"color": colour},
        )
    return _styled(figure, 300, xaxis={"type": "date"}, yaxis={"title": {"text": f"{step} (ms)"}})


def _latency_step(windows: Sequence[MonitoredWindow]) -> str | None:
    """The end-to-end step when recorded, else the step with the most observations."""
    observed: dict[str, int] = {}
    for window in windows:
        for step, summary in window.evaluation.latency.items():
            observed[step] = observed.get(step, 0) + summary.count
    if END_TO_END in observed:
        return END_TO_END
    return max(observed, key=observed.__getitem__) if observed else None


def _milliseconds(seconds: float | None) -> float:
    return np.nan if seconds is None else seconds * 1000.0


# Alerts


def _alerts_figure(alerts: Sequence[AlertRecord]) -> go.Figure:
    figure = go.Figure()
    if not alerts:
        _note(figure, "no alerts")
        return _styled(figure, 200, xaxis={"type": "date"})
    labels = sorted({_alert_label(alert) for alert in alerts})
    row = {label: index for index, label in enumerate(labels)}
    for severity, colour in _SEVERITY_COLOURS.items():
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
    return _styled(
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


# Figures and HTML


def _styled(
    figure: go.Figure,
    height: int,
    *,
    xaxis: dict[str, Any] | None = None,
    yaxis: dict[str, Any] | None = None,
    **layout: Any,
) -> go.Figure:
    figure.update_layout(
        **_LAYOUT,
        height=height,
        xaxis={**_AXIS, **(xaxis or {})},
        yaxis={**_AXIS, **(yaxis or {})},
        **layout,
    )
    return figure


def _note(figure: go.Figure, text: str) -> None:
    figure.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 14, "color": "#7f8c8d"},
    )


def _chart_section(chart_id: str, title: str, note: str, figure: go.Figure) -> str:
    """A heading, a note, the chart's div and its figure as JSON (drawn by `_LOADER`)."""
    # plotly's JSON escapes <, > and /, so it cannot close the script element early.
    return (
        f'<section id="{chart_id}"><h2>{html.escape(title)}</h2>'
        f'<p class="note">{html.escape(note)}</p>'
        f'<div id="chart-{chart_id}" class="chart"></div>'
        f'<script type="application/json" class="shipml-figure" data-chart="chart-{chart_id}">'
        f"{figure.to_json()}</script></section>"
    )


@cache
def _plotly_gzip_base64() -> str:
    """plotly.js, gzipped (mtime 0: the same bytes every time) and base64-encoded."""
    packed = gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=9, mtime=0)
    return base64.b64encode(packed).decode("ascii")


def _summary(
    pipeline: str,
    baseline: MonitoringBaseline | None,
    windows: Sequence[MonitoredWindow],
    alerts: Sequence[AlertRecord],
    failed: Sequence[FailedWindow],
    now: datetime,
) -> str:
    first, last = _time_span(windows, failed)
    open_alerts = [alert for alert in alerts if alert.status == "open"]
    critical = sum(alert.severity == "critical" for alert in open_alerts)
    unchecked = sum(1 for w in windows if w.evaluation.drift and not w.evaluation.drift_checked)
    facts = {
        "pipeline": pipeline,
        "windows": f"{len(windows) + len(failed)}, {_when(first)} to {_when(last)}",
        "failed windows": str(len(failed)),
        "drift not checked": f"{unchecked} window(s) (fewer values than drift_min_rows)",
        "baseline": "none stored"
        if baseline is None
        else f"prediction '{baseline.predictions.column}' ({baseline.predictions.statistic}), "
        f"{baseline.predictions.rows} holdout rows",
        "open alerts": f"{len(open_alerts)} ({critical} critical)",
        "generated": _when(now),
    }
    rows = "".join(
        f"<tr><th>{html.escape(key)}</th><td>{html.escape(value)}</td></tr>"
        for key, value in facts.items()
    )
    return f"<h1>{html.escape(pipeline)}: monitoring</h1><table class='facts'>{rows}</table>"


def _failed_table(failed: Sequence[FailedWindow]) -> str:
    header = ("window", "kind", "run", "rows in", "valid", "invalid", "diagnosis")
    rows = [
        [
            _when(window.start),
            window.kind,
            window.run_id[:12],
            *(_count(n) for n in (window.rows_in, window.rows_valid, window.rows_invalid)),
            window.reason,
        ]
        for window in failed
    ]
    return _table_section("failed-windows", f"Failed windows ({len(failed)})", header, rows)


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


def _latest_drift_table(window: MonitoredWindow) -> str:
    header = ("column", "check", "value", "threshold", "drifted", "judged on")
    rows = [_drift_row(result) for result in window.evaluation.drift]
    title = f"Latest window ({_when(window.start)}, {window.kind})"
    return _table_section("latest", title, header, rows)


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


def _open_alerts_table(alerts: Sequence[AlertRecord]) -> str:
    header = ("severity", "rule", "column", "opened", "last seen", "times", "message")
    rows = [
        [
            a.severity,
            a.rule,
            a.column or "",
            _when(a.opened_at),
            _when(a.last_seen_at),
            str(a.occurrences),
            a.message,
        ]
        for a in alerts
        if a.status == "open"
    ]
    return _table_section("open-alerts", "Open alerts", header, rows)


def _table_section(
    section_id: str, title: str, header: Sequence[str], rows: Sequence[Sequence[str]]
) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    if not rows:
        body = f"<tr><td colspan='{len(header)}'>none</td></tr>"
    return (
        f'<section id="{section_id}"><h2>{html.escape(title)}</h2>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>"
    )


def _when(moment: datetime | None) -> str:
    return "?" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }}
h1 {{ font-size: 1.6em; }} h2 {{ font-size: 1.2em; margin-top: 2em; }}
.note {{ color: #555; margin: 0.2em 0 0.5em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: left; }}
table.facts th {{ color: #555; font-weight: normal; }}
.chart-error {{ color: #c0392b; font-weight: bold; }}
</style>
</head>
<body>
{body}
<script id="plotly-gzip" type="application/octet-stream">{plotly}</script>
<script>
{loader}
</script>
</body>
</html>
"""

# Inflates plotly.js, runs it, then draws every figure; says so on the page if it cannot.
_LOADER = """
async function loadPlotly() {
  const packed = document.getElementById("plotly-gzip").textContent;
  const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const script = document.createElement("script");
  script.textContent = await new Response(stream).text();
  document.head.appendChild(script);
}
async function drawCharts() {
  await loadPlotly();
  for (const element of document.querySelectorAll("script.shipml-figure")) {
    const figure = JSON.parse(element.textContent);
    const config = {displaylogo: false, responsive: true};
    await Plotly.newPlot(element.dataset.chart, figure.data, figure.layout, config);
  }
}
drawCharts().catch((error) => {
  const message = document.createElement("p");
  message.className = "chart-error";
  message.textContent = "The charts could not be drawn in this browser: " + error;
  document.body.prepend(message);
  throw error;
});
"""
