"""Estimated performance per window, as records to show beside realized performance.

Each monitored window of a binary model with probabilities carries its CBPE estimates in its
stored evaluation (`WindowEvaluation.performance`, written by `observe_window`). These
functions read them back as flat records, one per window and metric, with kind "estimated";
realized performance (once labels arrive) has the same shape with kind "realized", so a
status, a report or a dashboard can put the two side by side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from shipml.monitoring.estimation import EstimateResult
from shipml.project.history import MonitoredWindow, load_windows

if TYPE_CHECKING:
    from shipml.store import RunStore


@dataclass(frozen=True)
class EstimateRecord:
    """One metric of one window: its value, its baseline and whether it alerted."""

    kind: Literal["estimated", "realized"]
    window_start: datetime | None
    window_end: datetime | None
    metric: str
    value: float | None
    rows: int
    baseline_mean: float | None = None
    baseline_std: float | None = None
    bound: float | None = None  # below it, the metric alerts
    alert: bool = False
    judged: str = "chunks"  # "chunks", "clt", or why it was not judged

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times in ISO 8601)."""
        return {
            "kind": self.kind,
            "window_start": _iso(self.window_start),
            "window_end": _iso(self.window_end),
            "metric": self.metric,
            "value": self.value,
            "rows": self.rows,
            "baseline_mean": self.baseline_mean,
            "baseline_std": self.baseline_std,
            "bound": self.bound,
            "alert": self.alert,
            "judged": self.judged,
        }


def estimated_records(windows: Iterable[MonitoredWindow]) -> list[EstimateRecord]:
    """The CBPE estimates of `windows`, in their order (windows without any give none)."""
    return [
        _record(window, result) for window in windows for result in window.evaluation.performance
    ]


def estimated_performance(
    store: RunStore, pipeline: str, *, last: int | None = None
) -> list[EstimateRecord]:
    """The CBPE estimates of the pipeline's newest `last` batch windows, oldest first."""
    return estimated_records(load_windows(store, pipeline, last=last, kinds=("batch",)))


def _record(window: MonitoredWindow, result: EstimateResult) -> EstimateRecord:
    return EstimateRecord(
        kind="estimated",
        window_start=window.start,
        window_end=window.end,
        metric=result.metric,
        value=result.value,
        rows=result.rows,
        baseline_mean=result.baseline_mean,
        baseline_std=result.baseline_std,
        bound=result.bound,
        alert=result.dropped,
        judged=result.note or result.method,
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
