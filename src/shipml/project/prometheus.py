"""Monitoring results as Prometheus gauges: for the service's /metrics, and for batch runs.

Gauges (every one labelled with `pipeline`):

| metric                                            | labels           | value                     |
|---------------------------------------------------|------------------|---------------------------|
| `shipml_feature_drift_score`                      | column, method   | the check's value         |
| `shipml_feature_drift_threshold`                  | column, method   | its threshold             |
| `shipml_feature_drift_checked`                    | column, method   | 1 judged, 0 not checked   |
| `shipml_feature_drift_values`                     | column, method   | values it was judged on   |
| `shipml_prediction_shift_zscore`                  |                  | z (NaN: constant baseline)|
| `shipml_prediction_shift_k`                       |                  | the rule's k              |
| `shipml_window_latency_seconds`                   | step, quantile   | p50/p95/p99 of the window |
| `shipml_monitoring_last_window_timestamp_seconds` |                  | end of the last window    |
| `shipml_alerts_open`                              | rule, severity   | open alerts               |
| `shipml_model_performance`                        | kind, metric     | last judged window's value|
| `shipml_model_performance_baseline`               | kind, metric     | its holdout-chunk mean    |
| `shipml_model_performance_zscore`                 | kind, metric     | z against the chunks      |
| `shipml_model_performance_labels`                 | kind             | labels it was judged on   |
| `shipml_labels_ingested`                          | outcome          | the last ingest's counts  |

Performance `kind` is "realized" (from labels, `shipml labels ingest`) or "estimated"
(CBPE, before labels); a metric is degraded when z < -k (z > k for RMSE, MAE, log loss,
Brier). Both kinds are read back from the store (`load_performance`) and written together
(`publish_performance_metrics`) to `<textfile stem>_performance.prom` beside the batch
textfile, or pushed as job `shipml_labels`: by `shipml labels ingest`, and by each monitored
batch window that has estimates (the ingest counts are then the last ingest's).

A drift check drifted when score > threshold (for `null_rate`, |score| > threshold). A check
with fewer than `drift_min_rows` values, even over the recent windows merged, is "not
checked": `shipml_feature_drift_checked` 0 and no score (never a reassuring 0);
the prediction shifted when |z| > k. Values describe the last evaluated window.

The service registers the gauges on its registry (`register_monitoring_metrics`) and
calls `update` after each online window. A batch run, being a short process, either
writes a node_exporter textfile (`write_textfile`, atomic) or pushes to a Pushgateway
(`push_metrics`); `publish_batch_metrics` does whichever is configured.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile
from prometheus_client import push_to_gateway as _push_to_gateway

from shipml.errors import MonitoringError
from shipml.monitoring.latency import PERCENTILES
from shipml.monitoring.performance import PerformanceRecord
from shipml.monitoring.window import WindowEvaluation

if TYPE_CHECKING:
    from shipml.store import AlertRecord

PUSH_JOB = "shipml_batch"
LABELS_JOB = "shipml_labels"
TEXTFILE_SUFFIX = ".prom"

logger = logging.getLogger(__name__)


class MonitoringMetrics:
    """The monitoring gauges of one pipeline on one registry."""

    def __init__(self, registry: CollectorRegistry, pipeline: str) -> None:
        self.pipeline = pipeline
        column = ["pipeline", "column", "method"]
        self._drift_score = Gauge(
            "shipml_feature_drift_score",
            "Drift score of a column in the last window (PSI, KS, JS distance, Cramer's V, "
            "or the null-rate change)",
            column,
            registry=registry,
        )
        self._drift_threshold = Gauge(
            "shipml_feature_drift_threshold",
            "Threshold above which the column's drift score means drift",
            column,
            registry=registry,
        )
        self._drift_checked = Gauge(
            "shipml_feature_drift_checked",
            "1 when the column's drift was judged, 0 when not checked (fewer values than "
            "drift_min_rows, even over recent windows merged)",
            column,
            registry=registry,
        )
        self._drift_values = Gauge(
            "shipml_feature_drift_values",
            "Values the column's drift check was judged on (recent windows merged when small)",
            column,
            registry=registry,
        )
        self._shift_z = Gauge(
            "shipml_prediction_shift_zscore",
            "z-score of the last window's prediction statistic against the training baseline",
            ["pipeline"],
            registry=registry,
        )
        self._shift_k = Gauge(
            "shipml_prediction_shift_k",
            "The prediction-shift rule's k: |z| > k is a shift",
            ["pipeline"],
            registry=registry,
        )
        self._latency = Gauge(
            "shipml_window_latency_seconds",
            "Latency percentiles of the last window per step (total = end to end)",
            ["pipeline", "step", "quantile"],
            registry=registry,
        )
        self._last_window = Gauge(
            "shipml_monitoring_last_window_timestamp_seconds",
            "Unix time of the end of the last evaluated window",
            ["pipeline"],
            registry=registry,
        )
        self._alerts_open = Gauge(
            "shipml_alerts_open",
            "Open alerts by rule and severity",
            ["pipeline", "rule", "severity"],
            registry=registry,
        )
        self._alert_keys: set[tuple[str, str]] = set()

    def update(self, evaluation: WindowEvaluation, *, window_end: datetime | None = None) -> None:
        """Show the results of the last evaluated window."""
        for gauge in (
            self._drift_score,
            self._drift_threshold,
            self._drift_checked,
            self._drift_values,
        ):
            gauge.clear()
        for result in evaluation.drift:
            labels = (self.pipeline, result.column, result.method)
            self._drift_checked.labels(*labels).set(0 if result.value is None else 1)
            self._drift_values.labels(*labels).set(result.current_count)
            if result.value is None:
                continue
            self._drift_score.labels(*labels).set(result.value)
            self._drift_threshold.labels(*labels).set(result.threshold)
        self._shift_z.clear()
        self._shift_k.clear()
        if evaluation.shift is not None:
            z = evaluation.shift.z
            self._shift_z.labels(self.pipeline).set(math.nan if z is None else z)
            self._shift_k.labels(self.pipeline).set(evaluation.shift.k)
        self._latency.clear()
        for step, summary in evaluation.latency.items():
            for name, quantile in PERCENTILES.items():
                seconds = getattr(summary, name)
                if seconds is not None:
                    self._latency.labels(self.pipeline, step, str(quantile)).set(seconds)
        if window_end is not None:
            self._last_window.labels(self.pipeline).set(window_end.timestamp())

    def set_open_alerts(self, alerts: Iterable[AlertRecord]) -> None:
        """Count the pipeline's open alerts; rules seen before and now clear drop to 0."""
        counts: dict[tuple[str, str], int] = dict.fromkeys(self._alert_keys, 0)
        for alert in alerts:
            if alert.pipeline == self.pipeline and alert.status == "open":
                key = (alert.rule, alert.severity)
                counts[key] = counts.get(key, 0) + 1
        for (rule, severity), count in counts.items():
            self._alerts_open.labels(self.pipeline, rule, severity).set(count)
        self._alert_keys = set(counts)


class PerformanceMetrics:
    """The model-performance gauges of one pipeline on one registry."""

    def __init__(self, registry: CollectorRegistry, pipeline: str) -> None:
        self.pipeline = pipeline
        metric = ["pipeline", "kind", "metric"]
        self._value = Gauge(
            "shipml_model_performance",
            "A judged metric of the last window with enough labels (realized) or estimated",
            metric,
            registry=registry,
        )
        self._baseline = Gauge(
            "shipml_model_performance_baseline",
            "The metric's mean over holdout chunks of the window's size",
            metric,
            registry=registry,
        )
        self._z = Gauge(
            "shipml_model_performance_zscore",
            "z of the window's metric against the holdout chunks (NaN: constant baseline)",
            metric,
            registry=registry,
        )
        self._labels = Gauge(
            "shipml_model_performance_labels",
            "Labelled predictions the last judged window's realized metrics were computed on",
            ["pipeline", "kind"],
            registry=registry,
        )
        self._ingested = Gauge(
            "shipml_labels_ingested",
            "The last label ingest's counts: read, matched, unmatched, duplicates, invalid, "
            "overdue (predictions unlabelled after label_delay)",
            ["pipeline", "outcome"],
            registry=registry,
        )

    def update(self, records: Iterable[PerformanceRecord]) -> None:
        """Show the last judged window of each kind."""
        latest: dict[str, PerformanceRecord] = {}
        for record in records:
            if record.judged:
                latest[record.kind] = record
        for gauge in (self._value, self._baseline, self._z):
            gauge.clear()
        self._labels.clear()
        for kind, record in latest.items():
            if kind == "realized":  # an estimate has no labels
                self._labels.labels(self.pipeline, kind).set(record.labels)
            for result in record.results:
                labels = (self.pipeline, kind, result.metric)
                self._value.labels(*labels).set(result.value)
                self._baseline.labels(*labels).set(result.baseline_mean)
                self._z.labels(*labels).set(math.nan if result.z is None else result.z)

    def set_ingest(self, counts: dict[str, int]) -> None:
        """Show the last ingest's counts."""
        for outcome, count in counts.items():
            self._ingested.labels(self.pipeline, outcome).set(count)


def publish_performance_metrics(
    pipeline: str,
    records: Iterable[PerformanceRecord],
    counts: dict[str, int],
    *,
    textfile: Path | None = None,
    gateway_url: str | None = None,
) -> bool:
    """Write `<textfile stem>_performance.prom` and/or push (job `shipml_labels`); log failures."""
    registry = CollectorRegistry()
    metrics = PerformanceMetrics(registry, pipeline)
    metrics.update(records)
    metrics.set_ingest(counts)
    succeeded = True
    if textfile is not None:
        target = textfile.with_name(f"{textfile.stem}_performance{TEXTFILE_SUFFIX}")
        try:
            write_to_textfile(str(target), registry)
        except OSError as error:
            logger.warning("performance metrics of %s not written: %s", pipeline, error)
            succeeded = False
    if gateway_url is not None:
        try:
            _push_to_gateway(
                gateway_url, job=LABELS_JOB, registry=registry, grouping_key={"pipeline": pipeline}
            )
        except OSError as error:
            logger.warning("performance metrics of %s not pushed: %s", pipeline, error)
            succeeded = False
    return succeeded


def register_monitoring_metrics(registry: CollectorRegistry, pipeline: str) -> MonitoringMetrics:
    """Create the monitoring gauges of `pipeline` on `registry` (once per registry)."""
    return MonitoringMetrics(registry, pipeline)


def write_textfile(
    path: Path,
    pipeline: str,
    evaluation: WindowEvaluation,
    open_alerts: Iterable[AlertRecord] = (),
    *,
    window_end: datetime | None = None,
) -> None:
    """Write the gauges for node_exporter's textfile collector (atomically: temp + rename).

    Use one file per pipeline: the file holds only this pipeline's gauges.
    """
    if path.suffix != TEXTFILE_SUFFIX:
        raise MonitoringError(
            f"the textfile collector only reads *{TEXTFILE_SUFFIX} files, got {path.name!r}"
        )
    if not path.parent.is_dir():
        raise MonitoringError(
            f"the directory for the metrics textfile does not exist: {path.parent}"
        )
    registry = _registry_of(pipeline, evaluation, open_alerts, window_end)
    write_to_textfile(str(path), registry)


def push_metrics(
    gateway_url: str,
    pipeline: str,
    evaluation: WindowEvaluation,
    open_alerts: Iterable[AlertRecord] = (),
    *,
    window_end: datetime | None = None,
    timeout_seconds: float = 10.0,
) -> None:
    """Replace the pipeline's group (job `shipml_batch`, label `pipeline`) on a Pushgateway."""
    registry = _registry_of(pipeline, evaluation, open_alerts, window_end)
    try:
        _push_to_gateway(
            gateway_url,
            job=PUSH_JOB,
            registry=registry,
            grouping_key={"pipeline": pipeline},
            timeout=timeout_seconds,
        )
    except OSError as error:  # URLError, HTTPError and timeouts are all OSErrors
        raise MonitoringError(f"cannot push metrics to the Pushgateway: {error}") from None


def publish_batch_metrics(
    pipeline: str,
    evaluation: WindowEvaluation,
    open_alerts: Iterable[AlertRecord] = (),
    *,
    window_end: datetime | None = None,
    textfile: Path | None = None,
    gateway_url: str | None = None,
) -> bool:
    """Write the textfile and/or push, as configured; log failures. True when all worked."""
    alerts = list(open_alerts)
    succeeded = True
    if textfile is not None:
        try:
            write_textfile(textfile, pipeline, evaluation, alerts, window_end=window_end)
        except MonitoringError as error:
            logger.warning("monitoring metrics of %s not written: %s", pipeline, error)
            succeeded = False
    if gateway_url is not None:
        try:
            push_metrics(gateway_url, pipeline, evaluation, alerts, window_end=window_end)
        except MonitoringError as error:
            logger.warning("monitoring metrics of %s not pushed: %s", pipeline, error)
            succeeded = False
    return succeeded


def _registry_of(
    pipeline: str,
    evaluation: WindowEvaluation,
    open_alerts: Iterable[AlertRecord],
    window_end: datetime | None,
) -> CollectorRegistry:
    registry = CollectorRegistry()
    metrics = MonitoringMetrics(registry, pipeline)
    metrics.update(evaluation, window_end=window_end)
    metrics.set_open_alerts(open_alerts)
    return registry
