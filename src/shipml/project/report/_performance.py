"""Model performance per window: realized and estimated, in a chart and a table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import plotly.graph_objects as go

from shipml.monitoring.performance import PerformanceRecord
from shipml.project.report._page import (
    METRIC_COLOURS,
    SEVERITY_COLOURS,
    note,
    styled,
    table_section,
    when,
)


def performance_figure(records: Sequence[PerformanceRecord]) -> go.Figure:
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
        colour = METRIC_COLOURS[metrics.index(metric) % len(METRIC_COLOURS)]
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
                           marker={"color": SEVERITY_COLOURS["critical"], "size": 9})
            )  # fmt: skip
    if not series:
        note(figure, "no window has been judged yet (too few labels or holdout chunks)")
    return styled(figure, 320, xaxis={"type": "date"})


def performance_table(records: Sequence[PerformanceRecord]) -> str:
    """One row per window and kind, newest first: its metrics, baselines, z and verdict."""
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
            [when(record.window_start), record.kind, record.model_version or "-",
             str(record.labels) if record.kind == "realized" else "-", shown, verdict]
        )  # fmt: skip
    return table_section("performance-windows", "Performance per window", header, rows)


def _z_text(z: float | None) -> str:
    return "undefined" if z is None else f"{z:+.2f}"
