"""A challenger scored in shadow: agreement per window and both models' predictions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from shipml.monitoring.latency import END_TO_END
from shipml.project.history import MonitoredWindow
from shipml.project.report._charts import milliseconds
from shipml.project.report._page import chart_section, note, styled, table_section, when
from shipml.project.report._predictions import ColumnProfileType, bin_labels, merged_column, shares


def shadow_sections(windows: Sequence[MonitoredWindow], times: np.ndarray) -> str:
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
                    when(window.start),
                    f"v{found.challenger_version}",
                    str(found.records),
                    "" if found.agreement_rate is None else f"{found.agreement_rate:.1%}",
                    str(found.dropped),
                    str(found.failed),
                    "" if summary is None else f"{milliseconds(summary.p50):.1f}",
                    "" if summary is None else f"{milliseconds(summary.p99):.1f}",
                ]
            )
            champion = merged_column(champion, found.champion)
            challenger = merged_column(challenger, found.challenger)
    for version, points in by_version.items():
        x, y = zip(*points, strict=True)
        agreement.add_scatter(
            x=np.asarray(x),
            y=np.asarray(y, dtype=np.float32),
            mode="lines+markers",
            name=f"v{version}",
        )
    styled(
        agreement,
        300,
        xaxis={"type": "date"},
        yaxis={"title": {"text": "agreement"}, "tickformat": ".0%", "range": [0, 1.05]},
    )
    distributions = go.Figure()
    if champion is not None and challenger is not None:
        labels = bin_labels(champion)
        distributions.add_bar(x=labels, y=shares(champion), name="champion")
        distributions.add_bar(x=labels, y=shares(challenger), name="challenger")
    else:
        note(distributions, "the predictions were not profiled (no bins to put them on)")
    styled(
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
            chart_section(
                "challenger-agreement", "Challenger agreement", _AGREEMENT_NOTE, agreement
            ),
            chart_section(
                "challenger-predictions",
                "Champion and challenger predictions",
                _BOTH_NOTE,
                distributions,
            ),
            table_section("challenger", "Challenger in shadow, per window", header, rows),
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
