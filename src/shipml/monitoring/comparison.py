"""Champion against challenger on the same labelled rows: their realized metrics per window.

A challenger record pairs with the champion's record of the same window (same key, same
start). `difference` is challenger minus champion; `better` says whether the challenger did
better on that metric (higher, or lower for an error such as RMSE or log loss), None when
they are equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from shipml.monitoring.performance import LOWER_IS_BETTER, PerformanceRecord


class MetricComparison(BaseModel):
    """One metric of one window, champion and challenger side by side."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    champion: float
    challenger: float
    difference: float  # challenger - champion
    better: bool | None  # whether the challenger did better; None when equal


class RealizedComparison(BaseModel):
    """A window's realized performance, champion against challenger, on the same labels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: str
    window_start: datetime
    champion_version: str | None
    challenger_version: str | None
    champion_labels: int
    challenger_labels: int
    metrics: list[MetricComparison]


def compare_realized(
    champion: Sequence[PerformanceRecord], challenger: Sequence[PerformanceRecord]
) -> list[RealizedComparison]:
    """Each challenger record beside the champion's of its window, oldest window first."""
    ours = {(r.window, r.window_start): r for r in champion if r.kind == "realized"}
    found = []
    for theirs in sorted(challenger, key=lambda r: (r.window_start, r.window)):
        mine = ours.get((theirs.window, theirs.window_start))
        if mine is None:
            continue
        shared = [m for m in mine.metrics if m in theirs.metrics]
        found.append(
            RealizedComparison(
                window=theirs.window,
                window_start=theirs.window_start,
                champion_version=mine.model_version,
                challenger_version=theirs.model_version,
                champion_labels=mine.labels,
                challenger_labels=theirs.labels,
                metrics=[_metric(m, mine.metrics[m], theirs.metrics[m]) for m in shared],
            )
        )
    return found


def _metric(name: str, champion: float, challenger: float) -> MetricComparison:
    difference = challenger - champion
    gain = -difference if name in LOWER_IS_BETTER else difference
    return MetricComparison(
        metric=name,
        champion=champion,
        challenger=challenger,
        difference=difference,
        better=None if gain == 0 else gain > 0,
    )
