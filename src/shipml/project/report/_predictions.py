"""The prediction distribution: the holdout's, all windows' and the latest window's."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import plotly.graph_objects as go

from shipml.errors import MonitoringError
from shipml.monitoring.baseline import MonitoringBaseline
from shipml.monitoring.profiles import (
    CategoricalColumnProfile,
    NumericColumnProfile,
    Profile,
    merge,
)
from shipml.project.history import MonitoredWindow
from shipml.project.report._page import note, styled

ColumnProfileType = NumericColumnProfile | CategoricalColumnProfile


def prediction_figure(
    baseline: MonitoringBaseline | None, windows: Sequence[MonitoredWindow]
) -> go.Figure:
    """Shares per baseline bin: the holdout, every window shown, the latest window."""
    if not windows:
        figure = go.Figure()
        note(figure, "no window succeeded in this period")
        return styled(figure, 320)
    name = _prediction_column(baseline, windows)
    reference = baseline.profile.columns[name] if baseline is not None else None
    comparable = _same_bins(name, reference, windows)
    figure = go.Figure()
    if not comparable:
        note(figure, f"no window has the prediction column '{name}' on the baseline's bins")
        return styled(figure, 320)
    merged = merge(Profile(columns={name: column}) for column in comparable).columns[name]
    series = [("latest window", comparable[-1]), ("windows shown", merged)]
    if reference is not None:
        series.insert(0, ("baseline", reference))
    labels = bin_labels(merged)
    for label, column in series:
        figure.add_bar(x=labels, y=shares(column), name=label)
    return styled(
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


def bin_labels(column: ColumnProfileType) -> list[str]:
    """The column's bins as axis labels (ranges, or categories)."""
    if isinstance(column, CategoricalColumnProfile):
        return [*column.categories, "(other)"]
    edges = column.edges
    inner = [
        f"{low:.3g}" if low == high else f"{low:.3g} to {high:.3g}" for low, high in pairwise(edges)
    ]
    if len(edges) == 2 and edges[0] == edges[1]:
        inner = [f"{edges[0]:.3g}"]
    return [f"< {edges[0]:.3g}", *inner, f"> {edges[-1]:.3g}"]


def shares(column: ColumnProfileType) -> np.ndarray:
    """The column's counts per bin as shares of its values."""
    counts = np.asarray(
        column.counts
        if isinstance(column, NumericColumnProfile)
        else [*column.counts, column.other],
        dtype=np.float64,
    )
    total = counts.sum()
    return (counts / total if total else counts).astype(np.float32)


def merged_column(
    merged: ColumnProfileType | None, found: Profile | None
) -> ColumnProfileType | None:
    """`found`'s column merged into `merged` (either may be missing)."""
    if found is None or len(found.columns) != 1:
        return merged
    [column] = found.columns.values()
    if merged is None:
        return column
    if column.spec != merged.spec:
        return merged  # another champion's bins: left out of the merged distribution
    return merge([Profile(columns={"p": merged}), Profile(columns={"p": column})]).columns["p"]
