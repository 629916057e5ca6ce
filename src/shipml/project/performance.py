"""Realized performance of a window: the training metrics on its joined rows, judged by chunks.

The metrics are those of training (`task_metrics.score_holdout`: the same scikit-learn
functions, the stored decision threshold), computed on the window's predictions that have a
label, and on holdout chunks of the same size for the baseline (`monitoring.performance`
documents the rule). The holdout's truth and predictions are stored at training time with
the model version (a "baseline" profile named "performance" in the run store).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from sklearn import metrics as sk

from shipml.monitoring.performance import (
    DEFAULT_MAX_ROWS,
    JUDGED,
    PerformanceKind,
    PerformanceRecord,
    PerformanceReference,
    baseline_chunks,
    estimated_record,
    judge_metric,
    not_judged_reason,
)
from shipml.monitoring.shift import DEFAULT_K, MIN_CHUNKS
from shipml.project.outputs import PredictionLayout
from shipml.project.targets import Target
from shipml.project.task_metrics import (
    confusion_counts,
    decision_scores,
    roc_auc,
    score_holdout,
)
from shipml.store import RunStore
from shipml.windows import Window

if TYPE_CHECKING:
    from shipml.monitoring.window import WindowEvaluation

Baseline = tuple[dict[str, np.ndarray], Literal["chunks", "bootstrap"]]
TRUTH = "truth"
PERFORMANCE = "performance"  # the baseline profile's name, and the kind of window records
REALIZED = "realized"


def performance_reference(
    target: Target,
    layout: PredictionLayout,
    truth: pd.Series,
    predictions: pd.DataFrame,
    threshold: float | None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> PerformanceReference:
    """The holdout's truth and prediction columns, row by row, for chunk baselines later."""
    keep = np.arange(len(truth))
    if len(keep) > max_rows:
        keep = np.linspace(0, len(truth) - 1, max_rows).round().astype(np.int64)
    rows: dict[str, list[Any]] = {TRUTH: _plain(truth.iloc[keep])}
    for column in layout.columns():
        rows[column] = _plain(predictions[column].iloc[keep])
    return PerformanceReference(
        task=target.task,
        target=target.column,
        classes=list(target.classes),
        positive=target.positive,
        threshold=threshold,
        label=layout.label,
        probabilities=list(layout.probabilities.items()),
        rows=rows,
    )


def realized_metrics(
    reference: PerformanceReference, truth: pd.Series, predictions: pd.DataFrame
) -> dict[str, float]:
    """The training metrics of these rows (truth aligned with predictions), as at training."""
    target, layout = _task(reference)
    return score_holdout(target, layout, truth, predictions, reference.threshold).metrics


def judge_window(
    reference: PerformanceReference,
    truth: pd.Series,
    predictions: pd.DataFrame,
    *,
    window: Window,
    name: str,
    model_version: str | None,
    predicted: int,
    min_labels: int,
    k: float = DEFAULT_K,
    min_chunks: int = MIN_CHUNKS,
    kind: PerformanceKind = "realized",
    baseline: Baseline | None = None,
) -> PerformanceRecord:
    """The window's metrics on its labelled rows, judged against holdout chunks of their count.

    `baseline` is `reference_baseline(reference, n labels, min_chunks)` when the caller
    already has it (windows with as many labels share it).
    """
    labels = len(truth)
    metrics = realized_metrics(reference, truth, predictions) if labels else {}
    reason = not_judged_reason(labels, min_labels)
    results = []
    if reason is None:
        chunks, method = baseline or reference_baseline(reference, labels, min_chunks)
        results = [
            judge_metric(m, metrics[m], chunks[m], labels, method, k)
            for m in JUDGED[reference.task]
            if m in metrics and m in chunks
        ]
    return PerformanceRecord(
        kind=kind,
        window=name,
        window_start=window.start,
        window_end=window.end,
        model_version=model_version,
        predictions=predicted,
        labels=labels,
        metrics=metrics,
        results=results,
        judged=reason is None,
        reason=reason,
    )


def reference_baseline(
    reference: PerformanceReference, labels: int, min_chunks: int = MIN_CHUNKS
) -> Baseline:
    """The judged metrics on holdout chunks of `labels` rows, and how the chunks were cut."""
    judged = list(JUDGED[reference.task])
    return baseline_chunks(reference.size, labels, _chunk_metrics(reference, judged), min_chunks)


def _chunk_metrics(reference: PerformanceReference, names: list[str]) -> Any:
    """What computes the judged metrics on the holdout rows of one chunk."""
    target, layout = _task(reference)
    frame = pd.DataFrame({c: v for c, v in reference.rows.items() if c != TRUTH})
    truth = pd.Series(reference.rows[TRUTH])

    def metrics_of(rows: np.ndarray) -> Mapping[str, float]:
        chunk = frame.iloc[rows].reset_index(drop=True)
        actual = truth.iloc[rows].reset_index(drop=True)
        found = judged_metrics(target, layout, actual, chunk, reference.threshold)
        return {name: found[name] for name in names if name in found}

    return metrics_of


def judged_metrics(
    target: Target,
    layout: PredictionLayout,
    truth: pd.Series,
    predictions: pd.DataFrame,
    threshold: float | None,
) -> dict[str, float]:
    """Only the judged metrics (`JUDGED`), as `task_metrics` defines them, for the chunks
    (the holdout is cut into dozens: computing every metric for each would be slow)."""
    if target.task == "regression":
        assert layout.label is not None
        actual, predicted = truth.to_numpy(float), predictions[layout.label].to_numpy(float)
        return {
            "rmse": float(sk.root_mean_squared_error(actual, predicted)),
            "mae": float(sk.mean_absolute_error(actual, predicted)),
        }
    if target.task == "multiclass":
        classes = list(target.classes)
        assert layout.label is not None
        actual = np.asarray(target.as_classes(truth).tolist())
        predicted = np.asarray(target.as_classes(predictions[layout.label]).tolist())
        return {
            "accuracy": float(sk.accuracy_score(actual, predicted)),
            "f1_macro": float(
                sk.f1_score(actual, predicted, labels=classes, average="macro", zero_division=0)
            ),
        }
    positive = target.is_positive(truth)
    column = layout.probability_of(target.positive)
    probability = predictions[column].to_numpy(float) if column else None
    found: dict[str, float] = {}
    if probability is not None and positive.any() and not positive.all():
        found["roc_auc"] = roc_auc(positive, probability)
    if layout.label is not None:
        decided = target.is_positive(predictions[layout.label])
    else:
        assert probability is not None and threshold is not None
        decided = probability >= threshold
    found["f1"] = decision_scores(*confusion_counts(positive, decided))["f1"]
    return found


def _task(reference: PerformanceReference) -> tuple[Target, PredictionLayout]:
    target = Target(reference.target, reference.task, tuple(reference.classes), reference.positive)
    layout = PredictionLayout(reference.label, dict(reference.probabilities))
    return target, layout


def _plain(values: pd.Series) -> list[Any]:
    """Python values JSON can hold (numpy scalars and booleans made plain)."""
    return [v.item() if hasattr(v, "item") else v for v in values.tolist()]


ESTIMATED = "estimated"
ONLINE_SUFFIX = ".online"
CHALLENGER = f"{REALIZED}.challenger"  # the challenger's realized records, on the same labels
RECORD_NAMES = (REALIZED, REALIZED + ONLINE_SUFFIX, ESTIMATED, ESTIMATED + ONLINE_SUFFIX)
CHALLENGER_RECORD_NAMES = (CHALLENGER, CHALLENGER + ONLINE_SUFFIX)


def save_estimates(
    store: RunStore,
    pipeline: str,
    evaluation: WindowEvaluation,
    judged: Collection[str],
    *,
    window: str,
    span: Window,
    model_version: str | None,
    online: bool = False,
    run_id: str | None = None,
) -> PerformanceRecord | None:
    """Store the window's CBPE estimates as a record of kind "estimated" (None: it has none).

    `window` is the window's key in the prediction log, so that its realized record, once
    labels arrive, has the same; `judged` the metrics whose estimates alert.
    """
    if not evaluation.performance:
        return None
    record = estimated_record(
        evaluation.performance,
        judged,
        window=window,
        window_start=span.start,
        window_end=span.end,
        model_version=model_version,
    )
    store.save_profile(
        pipeline,
        PERFORMANCE,
        ESTIMATED + ONLINE_SUFFIX if online else ESTIMATED,
        record.model_dump(mode="json"),
        run_id=run_id,
        window_start=record.window_start,
        window_end=record.window_end,
        model_version=model_version,
    )
    return record


def realized_record_name(kind: str, *, challenger: bool = False) -> str:
    """The profile name of a realized record of a batch or online window."""
    name = CHALLENGER if challenger else REALIZED
    return name if kind == "batch" else name + ONLINE_SUFFIX


def load_performance(
    store: RunStore, pipeline: str, last: int = 100, *, challenger: bool = False
) -> list[PerformanceRecord]:
    """The newest record of each (kind, window), realized and estimated, oldest window first.

    The one reader of both kinds: realized records are written by `shipml labels ingest`,
    estimated ones (CBPE) by each monitored window (`save_estimates`).
    `challenger`: the challenger's realized records instead ("realized.challenger").
    """
    latest: dict[tuple[str, str, str], PerformanceRecord] = {}
    for name in CHALLENGER_RECORD_NAMES if challenger else RECORD_NAMES:
        for found in store.profiles(pipeline, PERFORMANCE, name, limit=last):
            record = PerformanceRecord.model_validate(found.payload)
            latest[(name, record.kind, record.window)] = record
    ordered = sorted(latest.values(), key=lambda r: (r.window_start, r.kind))
    return ordered[-last * 2 :]
