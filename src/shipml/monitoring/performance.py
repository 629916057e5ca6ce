"""Model performance per window: the chunk rule of prediction shift, applied to a metric.

A window's metric (realized from its joined labels, or estimated before they arrive) is
judged against the same metric on holdout chunks of the same size:

- n = the window's labelled predictions. The holdout rows (truth and prediction, in holdout
  order, stored with the model version) are cut into consecutive chunks of n rows (an
  incomplete last chunk is dropped) and the metric computed on each. `baseline_mean` and
  `baseline_std` (ddof=0, as NannyML) are over those chunks.
- Fewer than `min_chunks` (6) chunks of n rows: `BOOTSTRAP_CHUNKS` chunks of n rows drawn
  from the holdout with replacement (seeded), `method="bootstrap"`. A metric has no
  closed-form standard error in general (AUC, F1), so resampling stands in for the CLT
  fall-back prediction shift uses.
- degraded when the metric is worse than the baseline by more than k sigma, one-sided:
  z = (value - baseline_mean) / baseline_std < -k for a metric where higher is better
  (AUC, F1, accuracy, R²), z > k where lower is better (RMSE, MAE, log loss, Brier).
  Without a change and with a roughly normal metric, a one-sided k = 2 fires in about 2.3%
  of windows per metric judged.
- What is judged (`JUDGED`): binary `roc_auc` (when the prediction has the probability)
  and `f1`; multiclass `accuracy` and `f1_macro`; regression `rmse` and `mae`. Two metrics
  per window: about 4.6% of undisturbed windows raise one at k = 2 (less, since they are
  correlated). Every other metric is reported, not judged.
- A window with fewer than `min_labels` labelled predictions is "not judged (n labels <
  min)": its metrics are shown, no alert is raised or cleared.

Pure math: the metric itself is computed by the caller (the training metrics' code), given
to `baseline_chunks` as the indices of each chunk's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shipml.errors import MonitoringError
from shipml.monitoring.alerts import CandidateAlert, Severity
from shipml.monitoring.estimation import EstimateResult
from shipml.monitoring.shift import DEFAULT_K, MIN_CHUNKS, one_sided

PerformanceKind = Literal["realized", "estimated"]
REALIZED_RULE = "performance.realized"
ESTIMATED_RULE = "performance.estimated"
BOOTSTRAP_CHUNKS = 50
BOOTSTRAP_SEED = 0
DEFAULT_MAX_ROWS = 50_000
LOWER_IS_BETTER = frozenset({"rmse", "mae", "mape", "log_loss", "brier"})
JUDGED: Mapping[str, tuple[str, ...]] = {
    "binary": ("roc_auc", "f1"),
    "multiclass": ("accuracy", "f1_macro"),
    "regression": ("rmse", "mae"),
}


class PerformanceReference(BaseModel):
    """The holdout's truth and predictions, row by row, and how the model decides.

    `rows` holds one list per column: `truth`, and the prediction's columns (the predicted
    class or value, class probabilities), in holdout order (thinned evenly beyond
    `DEFAULT_MAX_ROWS`). Enough to compute any metric of the task on any chunk of rows.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    task: Literal["binary", "multiclass", "regression"]
    target: str
    classes: list[Any] = Field(default_factory=list)
    positive: Any = None
    threshold: float | None = None
    label: str | None = None  # the predicted class (or value) column
    probabilities: list[tuple[Any, str]] = Field(default_factory=list)  # (class, column)
    rows: dict[str, list[Any]]

    @property
    def size(self) -> int:
        """The number of holdout rows kept."""
        return len(self.rows["truth"])


class PerformanceResult(BaseModel):
    """One metric of one window, judged against holdout chunks of the window's size."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str
    value: float
    baseline_mean: float
    baseline_std: float
    z: float | None  # None when the baseline does not vary
    k: float
    degraded: bool
    chunk_size: int
    n_chunks: int
    method: Literal["chunks", "bootstrap", "clt"]  # "clt": a CBPE accuracy on too few chunks

    @property
    def lower_is_better(self) -> bool:
        """Whether a rise of this metric is a degradation (RMSE, log loss, ...)."""
        return self.metric in LOWER_IS_BETTER


class PerformanceRecord(BaseModel):
    """A window's performance: realized (from labels) or estimated, judged or not.

    The shape both kinds share, stored per window and shown by `monitor status`, the
    report and Prometheus; `kind` says which one it is.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: PerformanceKind
    window: str  # the window's key (or an online flush's)
    window_start: datetime
    window_end: datetime
    model_version: str | None
    predictions: int
    labels: int  # labelled predictions (realized); 0 for an estimate
    metrics: dict[str, float]
    results: list[PerformanceResult] = Field(default_factory=list)
    judged: bool
    reason: str | None = None  # why not judged

    @property
    def degraded(self) -> list[PerformanceResult]:
        """The judged metrics that fell below their baseline."""
        return [result for result in self.results if result.degraded]


def chunk_indices(
    total: int, chunk_size: int, min_chunks: int = MIN_CHUNKS
) -> tuple[list[np.ndarray], Literal["chunks", "bootstrap"]]:
    """The rows of each baseline chunk: consecutive, or drawn with replacement (see module)."""
    if chunk_size < 1 or total < 1:
        raise MonitoringError(f"cannot cut {total} holdout rows into chunks of {chunk_size}")
    count = total // chunk_size
    if count >= min_chunks:
        return [np.arange(i * chunk_size, (i + 1) * chunk_size) for i in range(count)], "chunks"
    generator = np.random.default_rng(BOOTSTRAP_SEED)
    drawn = [generator.integers(0, total, chunk_size) for _ in range(BOOTSTRAP_CHUNKS)]
    return drawn, "bootstrap"


def baseline_chunks(
    total: int,
    chunk_size: int,
    metrics_of: Callable[[np.ndarray], Mapping[str, float]],
    min_chunks: int = MIN_CHUNKS,
) -> tuple[dict[str, np.ndarray], Literal["chunks", "bootstrap"]]:
    """Each metric over the baseline chunks (a metric a chunk cannot define is left out)."""
    chunks, method = chunk_indices(total, chunk_size, min_chunks)
    values: dict[str, list[float]] = {}
    for rows in chunks:
        for name, value in metrics_of(rows).items():
            values.setdefault(name, []).append(value)
    return {name: np.asarray(found) for name, found in values.items()}, method


def judge_metric(
    metric: str,
    value: float,
    chunk_values: np.ndarray,
    chunk_size: int,
    method: Literal["chunks", "bootstrap"],
    k: float = DEFAULT_K,
) -> PerformanceResult:
    """The one-sided k-sigma rule for one metric of a window."""
    if k <= 0:
        raise MonitoringError(f"k must be positive, got {k}")
    if len(chunk_values) == 0:
        raise MonitoringError(f"no baseline chunk defines {metric!r}")
    mean, std = float(chunk_values.mean()), float(chunk_values.std(ddof=0))
    z, degraded = one_sided(value, mean, std, k, lower_is_better=metric in LOWER_IS_BETTER)
    return PerformanceResult(
        metric=metric,
        value=value,
        baseline_mean=mean,
        baseline_std=std,
        z=z,
        k=k,
        degraded=degraded,
        chunk_size=chunk_size,
        n_chunks=len(chunk_values),
        method=method,
    )


def not_judged_reason(labels: int, min_labels: int) -> str | None:
    """'not judged (n labels < min)' when a window has too few labels, else None."""
    if labels < min_labels:
        return f"not judged ({labels} labels < {min_labels})"
    return None


def performance_alerts(
    record: PerformanceRecord, severity: Severity = "critical"
) -> list[CandidateAlert]:
    """One alert per degraded metric (rule `performance.<kind>`, column the metric)."""
    rule = REALIZED_RULE if record.kind == "realized" else ESTIMATED_RULE
    alerts = []
    for result in record.degraded:
        worse = "above" if result.lower_is_better else "below"
        sign = 1.0 if result.lower_is_better else -1.0
        bound = result.baseline_mean + sign * result.k * result.baseline_std
        z = "undefined (constant baseline)" if result.z is None else f"{result.z:+.2f}"
        alerts.append(
            CandidateAlert(
                rule=rule,
                column=result.metric,
                value=result.value,
                threshold=bound,
                severity=severity,
                message=(
                    f"{record.kind} {result.metric} of window {record.window} is "
                    f"{result.value:.4g}, {worse} {bound:.4g} = baseline "
                    f"{result.baseline_mean:.4g} {'+' if sign > 0 else '-'} {result.k:g} x "
                    f"{result.baseline_std:.3g} (z = {z}, {result.chunk_size} labels, "
                    f"{result.method})"
                ),
            )
        )
    return alerts


def estimated_record(
    estimates: Sequence[EstimateResult],
    judged: Collection[str],
    *,
    window: str,
    window_start: datetime,
    window_end: datetime,
    model_version: str | None,
) -> PerformanceRecord:
    """A window's CBPE estimates as a record of kind "estimated".

    Every defined estimate is in `metrics`; the `judged` ones (those that alert,
    `estimate_alerts_on`) with a verdict are its `results`. A judged metric left out (undefined,
    or too few holdout chunks) is named in `reason`; the record is judged when any is kept.
    """
    results, left_out = [], []
    for estimate in estimates:
        if estimate.metric not in judged:
            continue
        result = _judged_estimate(estimate)
        if result is None:
            left_out.append(f"{estimate.metric} {estimate.note or 'not judged'}")
        else:
            results.append(result)
    return PerformanceRecord(
        kind="estimated",
        window=window,
        window_start=window_start,
        window_end=window_end,
        model_version=model_version,
        predictions=max((e.rows for e in estimates), default=0),
        labels=0,
        metrics={e.metric: e.value for e in estimates if e.value is not None},
        results=results,
        judged=bool(results),
        reason="; ".join(left_out) or None,
    )


def _judged_estimate(estimate: EstimateResult) -> PerformanceResult | None:
    """The estimate's verdict as a result; None when it has none."""
    if (
        estimate.method == "not judged"
        or estimate.value is None
        or estimate.baseline_mean is None
        or estimate.baseline_std is None
    ):
        return None
    return PerformanceResult(
        metric=estimate.metric,
        value=estimate.value,
        baseline_mean=estimate.baseline_mean,
        baseline_std=estimate.baseline_std,
        z=estimate.z,
        k=estimate.k,
        degraded=estimate.dropped,
        chunk_size=estimate.rows,
        n_chunks=estimate.n_chunks,
        method=estimate.method,
    )


def checked_metrics(record: PerformanceRecord) -> set[tuple[str, str | None]]:
    """The (rule, metric) pairs a judged record decided on, firing or not."""
    rule = REALIZED_RULE if record.kind == "realized" else ESTIMATED_RULE
    return {(rule, result.metric) for result in record.results} if record.judged else set()
