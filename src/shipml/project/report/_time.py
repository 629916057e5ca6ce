"""Window time: one span for every time axis, failed windows marked on each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import plotly.graph_objects as go

from shipml.errors import MonitoringError
from shipml.project.failures import FailedWindow
from shipml.project.history import MonitoredWindow
from shipml.project.report._page import FAILED_COLOUR, iso, when

FAILED_TRACE = "failed window"


def time_span(
    windows: Sequence[MonitoredWindow], failed: Sequence[FailedWindow]
) -> tuple[datetime, datetime]:
    """From the first window's start to the last one's end, failed windows included."""
    starts = [w.start or w.end for w in windows] + [w.start for w in failed]
    ends = [w.end or w.start for w in windows] + [w.end or w.start for w in failed]
    known_starts = [s for s in starts if s is not None]
    known_ends = [e for e in ends if e is not None]
    return min(known_starts), max(known_ends)


def on_window_time(
    figure: go.Figure, span: tuple[datetime, datetime], failed: Sequence[FailedWindow]
) -> None:
    """Fix the x axis to the windows' span and mark every failed window (band and cross)."""
    first, last = span
    if first == last:
        first, last = first - timedelta(minutes=1), last + timedelta(minutes=1)
    figure.update_xaxes(type="date", range=[iso(first), iso(last)], autorange=False)
    if not failed:
        return
    for window in failed:
        figure.add_vrect(
            x0=iso(window.start),
            x1=iso(window.end or window.start),
            fillcolor=FAILED_COLOUR,
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
        marker={"symbol": "x", "size": 11, "color": FAILED_COLOUR},
        text=[f"{when(w.start)}: {w.reason}" for w in failed],
        hovertemplate="failed window %{text}<extra></extra>",
    )
    figure.update_layout(
        yaxis9={"overlaying": "y", "range": [0, 1], "visible": False, "fixedrange": True}
    )


def window_times(windows: Sequence[MonitoredWindow]) -> np.ndarray:
    """Window starts as milliseconds since the epoch, which plotly's date axes read."""
    times = []
    for window in windows:
        moment = window.start or window.end
        if moment is None:
            raise MonitoringError(
                f"{window.kind} window of run {window.run_id} has neither start nor end"
            )
        times.append(moment.timestamp() * 1000.0)
    return np.asarray(times, dtype=np.float64)
