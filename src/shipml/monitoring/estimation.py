"""Estimated performance (CBPE) of a binary classifier, and its k-sigma rule.

Confidence-based performance estimation, as NannyML defines it: with calibrated
probabilities p of the positive class, a row is positive with probability p, so the
expected confusion matrix of a window is TP = sum of p over the rows labelled positive,
FP = those rows - TP, FN = sum of p over the rows labelled negative, TN = the rest, and

    accuracy = (TP + TN) / n      precision = TP / (TP + FP)      recall = TP / (TP + FN)
    F1 = 2 TP / (2 TP + FP + FN)  ROC AUC = the area under the curve of
    (sum of 1 - p, sum of p) over the rows above each threshold, each normed to 1.

(NannyML's per-metric ratio of expected counts, not the expectation of the ratio.) A metric
whose denominator is 0 (no row labelled positive, say) is undefined: None.

Rule. The reference is the holdout's calibrated probabilities and labels, in holdout order,
cut into consecutive chunks of the window's n rows exactly as prediction shift cuts them
(`shift.cut_chunks`: incomplete last chunk dropped). Each metric is estimated on every chunk;
the baseline is the mean and the population standard deviation (ddof=0) of those chunk
estimates, and the window's estimate is judged by

    z = (estimate - baseline_mean) / baseline_std,   dropped when z < -k   (k = 2).

The baseline of the window sizes seen at training (`window_rows`: the training data's
commonest rows per window, by its time column) is stored with the reference, so that a
window of one of those sizes is judged without decoding the holdout's rows; any other size
is computed from them on first use and kept in the process.

Only a fall alerts (one-sided): with a normal estimate that happens in 2.3% of windows
drawn like the holdout, per metric. Measured on 2,000 seeded synthetic windows of 2,000 rows
(holdout 40,000, an overconfident model calibrated on it): AUC, F1 and recall 0.2-0.3%,
accuracy 1.8%, precision 2.9%; one of the three alerted by default (AUC, F1, accuracy) 2.2%,
one of all five 4.5%. With fewer than `min_chunks` chunks,
accuracy (a mean of per-row expected correctness, max(p, 1 - p) on the labelled side) falls
back to sigma / sqrt(n) as prediction shift does; the other metrics are not judged.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Collection, Sequence
from functools import cached_property
from typing import Literal, get_args

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from shipml.errors import MonitoringError
from shipml.monitoring.calibration import IsotonicCalibration, fit_calibration
from shipml.monitoring.confidence import BINS, ConfidenceSummary, bin_index
from shipml.monitoring.shift import (
    DEFAULT_K,
    DEFAULT_MAX_VALUES,
    MIN_CHUNKS,
    cut_chunks,
    judge,
    one_sided,
    thin_values,
)

_BYTE_LEVELS = 256  # levels a uint8 code indexes
_SHORT_LEVELS = 65_536  # levels a uint16 code indexes

EstimatedMetric = Literal["roc_auc", "f1", "accuracy", "precision", "recall"]
ESTIMATED_METRICS: tuple[EstimatedMetric, ...] = get_args(EstimatedMetric)


def estimate_binned(
    counts: np.ndarray,
    sums: np.ndarray,
    predicted_positive: np.ndarray,
    mass_predicted_positive: np.ndarray,
) -> dict[EstimatedMetric, np.ndarray]:
    """Every metric from per-bin counts and sums of p (last axis: bins; leading axes: chunks).

    Undefined values are NaN.
    """
    rows, mass = counts.sum(axis=-1), sums.sum(axis=-1)
    tp = mass_predicted_positive
    fp = predicted_positive - tp
    fn = mass - tp
    tn = rows - predicted_positive - fn
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "roc_auc": _binned_auc(counts, sums),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
            "accuracy": _ratio(tp + tn, rows),
            "precision": _ratio(tp, predicted_positive),
            "recall": _ratio(tp, mass),
        }


def estimate(summary: ConfidenceSummary) -> dict[EstimatedMetric, float | None]:
    """Every metric of one window's summary (None where undefined)."""
    counts, sums = summary.dense()
    values = estimate_binned(
        counts,
        sums,
        np.asarray(float(summary.predicted_positive)),
        np.asarray(summary.mass_predicted_positive),
    )
    return {metric: _finite(float(value)) for metric, value in values.items()}


def estimate_chunks(
    calibrated: np.ndarray,
    predicted_positive: np.ndarray,
    chunk_size: int,
    bins: np.ndarray | None = None,
) -> dict[EstimatedMetric, np.ndarray]:
    """Every metric on each complete consecutive chunk of `chunk_size` rows, vectorized.

    `bins` are the rows' `bin_index`, when known already.
    """
    p = cut_chunks(np.asarray(calibrated, dtype=np.float64), chunk_size)
    labelled = cut_chunks(np.asarray(predicted_positive, dtype=bool), chunk_size)
    n_chunks = p.shape[0]
    binned = bin_index(p) if bins is None else cut_chunks(bins, chunk_size)
    index = (binned + BINS * np.arange(n_chunks)[:, None]).ravel()
    counts = np.bincount(index, minlength=n_chunks * BINS).reshape(n_chunks, BINS)
    sums = np.bincount(index, weights=p.ravel(), minlength=n_chunks * BINS)
    positive = labelled.sum(axis=1).astype(np.float64)
    mass_positive = np.where(labelled, p, 0.0).sum(axis=1)
    return estimate_binned(counts, sums.reshape(n_chunks, BINS), positive, mass_positive)


def _binned_auc(counts: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """Trapezoidal area under the expected ROC curve, thresholds at bins (highest p first)."""
    tp = np.cumsum(sums[..., ::-1], axis=-1)
    fp = np.cumsum((counts - sums)[..., ::-1], axis=-1)
    tpr = tp / tp[..., -1:]
    fpr = fp / fp[..., -1:]
    zero = np.zeros((*tpr.shape[:-1], 1))
    tpr, fpr = np.concatenate([zero, tpr], axis=-1), np.concatenate([zero, fpr], axis=-1)
    area: np.ndarray = (np.diff(fpr, axis=-1) * (tpr[..., 1:] + tpr[..., :-1]) / 2).sum(axis=-1)
    return area


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    result: np.ndarray = np.where(denominator > 0, numerator / denominator, np.nan)
    return result


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class ChunkBaseline(BaseModel):
    """Each metric's mean and standard deviation over the holdout chunks of `rows` rows.

    Only the chunks where a metric is defined count (`defined`); the mean and deviation are
    None where none is.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rows: int
    chunks: int
    mean: dict[EstimatedMetric, float | None]
    std: dict[EstimatedMetric, float | None]
    defined: dict[EstimatedMetric, int]

    @classmethod
    def of(cls, rows: int, estimates: dict[EstimatedMetric, np.ndarray]) -> ChunkBaseline:
        """The baseline of the chunk estimates of `estimate_chunks`."""
        found = {metric: values[np.isfinite(values)] for metric, values in estimates.items()}
        return cls(
            rows=rows,
            chunks=len(estimates["accuracy"]),
            mean={m: float(v.mean()) if len(v) else None for m, v in found.items()},
            std={m: float(v.std(ddof=0)) if len(v) else None for m, v in found.items()},
            defined={m: len(v) for m, v in found.items()},
        )


class EstimationReference(BaseModel):
    """What CBPE needs of a binary model's holdout, stored with the model version.

    The calibration (None when the holdout's probabilities need none), how a row's label is
    read (the label column equal to the positive class, else probability >= threshold), and
    the holdout's calibrated probabilities and labels, in order, for the chunk baseline; and
    the chunk baselines of the window sizes known at training (`baselines`), so that a window
    of one of those sizes is judged without decoding the holdout.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    probability: str  # the column of the probability of the positive class
    label: str | None = None  # the column of the predicted class, when predict gives one
    positive_label: str | None = None
    threshold: float = 0.5
    calibration: IsotonicCalibration | None = None
    rows: int  # holdout rows before thinning
    calibrated: str = ""  # per-row calibrated probabilities, float32 little-endian, base64
    labelled_positive: str  # per-row 0/1 labels of the model, packed bits, base64
    bins: str = ""  # per-row bin of the calibrated probability, uint16 little-endian, base64
    # Or, when the holdout's calibrated probabilities take few values (isotonic calibration
    # is flat between its knots' pairs), those values and each row's index among them:
    levels: str = ""  # the distinct calibrated probabilities, float64 little-endian, base64
    codes: str = ""  # per-row index into `levels`: uint8 up to 256 levels, else uint16 (LE)
    baselines: list[ChunkBaseline] = []

    @classmethod
    def from_holdout(
        cls,
        predictions: pd.DataFrame,
        positive: np.ndarray,
        probability: str,
        *,
        label: str | None = None,
        positive_label: object = None,
        threshold: float = 0.5,
        max_values: int = DEFAULT_MAX_VALUES,
        window_rows: Collection[int] = (),
    ) -> EstimationReference:
        """Calibrate on the holdout's predictions and truth (0/1, per row) when needed, and
        store the chunk baselines of windows of `window_rows` rows."""
        reference = cls(
            probability=probability,
            label=label,
            positive_label=None if positive_label is None else str(positive_label),
            threshold=threshold,
            rows=len(predictions),
            calibrated="",
            labelled_positive="",
        )
        raw = reference._probabilities(predictions)
        calibration = fit_calibration(raw, np.asarray(positive, dtype=bool))
        reference = reference.model_copy(update={"calibration": calibration})
        calibrated = reference.calibrate(raw)
        labelled = reference.labelled_positive_of(predictions)
        keep = thin_values(np.arange(len(calibrated)), max_values)
        reference = reference.model_copy(
            update={
                "labelled_positive": _encode(np.packbits(labelled[keep]).tobytes()),
                **_stored_probabilities(calibrated[keep]),
            }
        )
        baselines = [reference.chunk_baseline(rows) for rows in sorted(set(window_rows))]
        return reference.model_copy(update={"baselines": baselines})

    def calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (the raw ones when no calibration was needed)."""
        if self.calibration is None:
            return np.asarray(probabilities, dtype=np.float64)
        return self.calibration.apply(probabilities)

    def labelled_positive_of(self, predictions: pd.DataFrame) -> np.ndarray:
        """Which rows the model labels positive."""
        if self.label is None:
            return self._probabilities(predictions) >= self.threshold
        column = predictions[self.label]
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
            column.dtype
        ):
            try:  # a class 1 predicted as 1.0 is still class 1
                positive = float(str(self.positive_label))
            except ValueError:
                pass
            else:
                if isinstance(column.dtype, np.dtype):  # numpy's comparison: 4x pandas'
                    labelled: np.ndarray = column.to_numpy() == positive
                    return labelled
                return (column == positive).to_numpy(bool)
        return (column.astype(str) == self.positive_label).to_numpy(bool)

    def summarize(self, predictions: pd.DataFrame) -> ConfidenceSummary:
        """The confidence summary of (a part of) a window's predictions (rows with nulls
        in the probability are not estimated on)."""
        values = self._column(predictions)
        if len(values) and np.isnan(values.min()):  # np.min is NaN where a value is
            known = ~np.isnan(values)
            predictions, values = predictions[known], values[known]
        probabilities, labelled = values, self._labelled(predictions, values)
        _check_probabilities(probabilities, self.probability)
        if self.calibration is None:
            return ConfidenceSummary.of(probabilities, labelled)
        calibrated, segments = self.calibration.apply_segments(probabilities)
        bins = self._segment_bins.take(segments)
        sloped = np.flatnonzero(bins < 0)
        if len(sloped):
            bins[sloped] = bin_index(calibrated[sloped])
        return ConfidenceSummary.of(calibrated, labelled, bins)

    def holdout(self) -> tuple[np.ndarray, np.ndarray]:
        """The stored calibrated probabilities and labels of the holdout (read-only)."""
        return self._decoded

    def chunk_estimates(self, rows: int) -> dict[EstimatedMetric, np.ndarray]:
        """Every metric on each holdout chunk of `rows` rows."""
        calibrated, labelled = self.holdout()
        return estimate_chunks(calibrated, labelled, rows, self._holdout_bins())

    def chunk_baseline(self, rows: int) -> ChunkBaseline:
        """The baseline of windows of `rows` rows: stored at training, or computed (and kept)."""
        found = self._baselines.get(rows)
        if found is None:
            found = self._baselines[rows] = ChunkBaseline.of(rows, self.chunk_estimates(rows))
        return found

    @cached_property
    def _baselines(self) -> dict[int, ChunkBaseline]:
        return {baseline.rows: baseline for baseline in self.baselines}

    @cached_property
    def _segment_bins(self) -> np.ndarray:
        """Per segment of the calibration, the bin of its calibrated value where that is one
        constant (most rows: isotonic regression is flat between its knots' pairs), else -1."""
        assert self.calibration is not None
        bins = bin_index(self.calibration.segment_values())
        bins[~self.calibration.constant_segments()] = -1
        return bins

    @cached_property
    def _coded(self) -> tuple[np.ndarray, np.ndarray]:
        levels = np.frombuffer(base64.b64decode(self.levels), dtype="<f8")
        width = np.uint8 if len(levels) <= _BYTE_LEVELS else np.dtype("<u2")
        return levels, np.frombuffer(base64.b64decode(self.codes), dtype=width)

    def _holdout_bins(self) -> np.ndarray | None:
        """The holdout rows' bins, where stored (`levels` or `bins`)."""
        if self.levels:
            levels, codes = self._coded
            bins: np.ndarray = bin_index(levels).take(codes)
            return bins
        return np.frombuffer(base64.b64decode(self.bins), dtype="<u2") if self.bins else None

    @cached_property
    def _decoded(self) -> tuple[np.ndarray, np.ndarray]:
        if self.levels:
            levels, codes = self._coded  # float32 as `calibrated` stores them: same baselines
            p = levels.astype("<f4").astype(np.float64).take(codes)
        else:
            p = np.frombuffer(base64.b64decode(self.calibrated), dtype="<f4").astype(np.float64)
        bits = np.frombuffer(base64.b64decode(self.labelled_positive), dtype=np.uint8)
        labelled = np.unpackbits(bits, count=len(p)).astype(bool)
        p.flags.writeable = False
        labelled.flags.writeable = False
        return p, labelled

    def _probabilities(self, predictions: pd.DataFrame) -> np.ndarray:
        values = self._column(predictions)
        _check_probabilities(values, self.probability)
        return values

    def _column(self, predictions: pd.DataFrame) -> np.ndarray:
        """The probability column as floats, NaN where null."""
        if self.probability not in predictions.columns:
            raise MonitoringError(
                f"the predictions have no probability column {self.probability!r}"
            )
        values: np.ndarray = predictions[self.probability].to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        return values

    def _labelled(self, predictions: pd.DataFrame, probabilities: np.ndarray) -> np.ndarray:
        """`labelled_positive_of`, given the rows' probabilities already read."""
        if self.label is None:
            by_threshold: np.ndarray = probabilities >= self.threshold
            return by_threshold
        return self.labelled_positive_of(predictions)


def _check_probabilities(values: np.ndarray, column: str) -> None:
    if len(values) and not (values.min() >= 0 and values.max() <= 1):  # NaN fails it too
        raise MonitoringError(f"probabilities in {column!r} must be between 0 and 1 (no nulls)")


class EstimateResult(BaseModel):
    """One metric's CBPE estimate for a window, against its holdout chunks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: EstimatedMetric
    value: float | None  # None when undefined on this window
    baseline_mean: float | None = None
    baseline_std: float | None = None
    z: float | None = None
    k: float = DEFAULT_K
    dropped: bool = False  # the alert: more than k sigma below the baseline
    rows: int
    n_chunks: int = 0
    method: Literal["chunks", "clt", "not judged"] = "chunks"
    note: str | None = None

    @property
    def bound(self) -> float | None:
        """baseline_mean - k * baseline_std: below it the estimate alerts."""
        if self.baseline_mean is None or self.baseline_std is None:
            return None
        return self.baseline_mean - self.k * self.baseline_std


def estimate_window(
    reference: EstimationReference,
    summary: ConfidenceSummary,
    k: float = DEFAULT_K,
    min_chunks: int = MIN_CHUNKS,
    metrics: Sequence[EstimatedMetric] = ESTIMATED_METRICS,
) -> list[EstimateResult]:
    """Each metric's estimate for the window and the k-sigma verdict on it."""
    if k <= 0:
        raise MonitoringError(f"k must be positive, got {k}")
    values = estimate(summary)
    rows = summary.rows
    if rows < 1:
        return [
            EstimateResult(metric=m, value=None, k=k, rows=0, method="not judged", note="no rows")
            for m in metrics
        ]
    baseline = reference.chunk_baseline(rows)
    n_chunks = baseline.chunks
    return [
        _judged(metric, values[metric], baseline, k, min_chunks, reference)
        if n_chunks >= min_chunks or metric == "accuracy"
        else EstimateResult(
            metric=metric,
            value=values[metric],
            k=k,
            rows=rows,
            n_chunks=n_chunks,
            method="not judged",
            note=f"not judged ({n_chunks} holdout chunks of {rows} rows < {min_chunks})",
        )
        for metric in metrics
    ]


def _judged(
    metric: EstimatedMetric,
    value: float | None,
    baseline: ChunkBaseline,
    k: float,
    min_chunks: int,
    reference: EstimationReference,
) -> EstimateResult:
    rows = baseline.rows
    if value is None:
        return EstimateResult(
            metric=metric, value=None, k=k, rows=rows, method="not judged", note="undefined"
        )
    if metric == "accuracy" and baseline.chunks < min_chunks:
        calibrated, labelled = reference.holdout()
        correct = np.where(labelled, calibrated, 1 - calibrated)  # per-row expected accuracy
        shift = judge("accuracy", correct, value, rows, "mean", k, min_chunks, warn=False)
        mean, std, method = shift.baseline_mean, shift.baseline_std, shift.method
    else:
        defined = baseline.defined[metric]
        if defined < min_chunks:
            return EstimateResult(
                metric=metric,
                value=value,
                k=k,
                rows=rows,
                n_chunks=defined,
                method="not judged",
                note=f"not judged ({defined} holdout chunks where it is defined)",
            )
        chunk_mean, chunk_std = baseline.mean[metric], baseline.std[metric]
        assert chunk_mean is not None and chunk_std is not None  # defined on >= min_chunks
        mean, std, method = chunk_mean, chunk_std, "chunks"
    z, dropped = one_sided(value, mean, std, k)
    return EstimateResult(
        metric=metric,
        value=value,
        baseline_mean=mean,
        baseline_std=std,
        z=z,
        k=k,
        dropped=dropped,
        rows=rows,
        n_chunks=baseline.chunks,
        method=method,
    )


def _stored_probabilities(calibrated: np.ndarray) -> dict[str, str]:
    """The fields that store the holdout's calibrated probabilities: `levels` and `codes`
    where they take so few values that a row takes one or two bytes, not six (the parse of
    a stored reference, paid by every new window, is 5x shorter), else `calibrated` and
    `bins`."""
    levels, codes = np.unique(calibrated, return_inverse=True)
    width = 1 if len(levels) <= _BYTE_LEVELS else 2
    if len(levels) <= _SHORT_LEVELS and 8 * len(levels) + width * len(codes) < 6 * len(codes):
        return {
            "levels": _encode(levels.astype("<f8").tobytes()),
            "codes": _encode(codes.astype(np.uint8 if width == 1 else "<u2").tobytes()),
        }
    return {
        "calibrated": _encode(calibrated.astype("<f4").tobytes()),
        "bins": _encode(bin_index(calibrated).astype("<u2").tobytes()),
    }


def _encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
