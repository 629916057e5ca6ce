"""Model performance as Prometheus gauges: the last judged window of each kind, ingest counts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from shipml.monitoring import PerformanceRecord, judge_metric
from shipml.project.prometheus import publish_performance_metrics

START = datetime(2026, 1, 1, tzinfo=UTC)


def _record(auc: float, judged: bool = True) -> PerformanceRecord:
    chunks = [0.80, 0.82, 0.78, 0.81, 0.79, 0.80]
    result = judge_metric("roc_auc", auc, np.array(chunks), 200, "chunks")
    return PerformanceRecord(
        kind="realized",
        window="20260101T0000Z",
        window_start=START,
        window_end=START,
        model_version="3",
        predictions=250,
        labels=200 if judged else 5,
        metrics={"roc_auc": auc},
        results=[result] if judged else [],
        judged=judged,
        reason=None if judged else "not judged (5 labels < 100)",
    )


def test_the_textfile_holds_the_last_judged_window_and_the_ingest_counts(tmp_path: Path) -> None:
    textfile = tmp_path / "sensors.prom"
    counts = {"read": 50, "matched": 40, "unmatched": 5, "duplicates": 3, "invalid": 2}

    assert publish_performance_metrics(
        "sensors", [_record(0.6), _record(0.9, judged=False)], counts, textfile=textfile
    )

    text = (tmp_path / "sensors_performance.prom").read_text()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    key = (("kind", "realized"), ("metric", "roc_auc"), ("pipeline", "sensors"))
    assert samples[("shipml_model_performance", key)] == 0.6
    assert samples[("shipml_model_performance_baseline", key)] == pytest.approx(0.8)
    assert samples[("shipml_model_performance_zscore", key)] < -2
    ingested = (("outcome", "matched"), ("pipeline", "sensors"))
    assert samples[("shipml_labels_ingested", ingested)] == 40
