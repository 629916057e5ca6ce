"""A window's CBPE estimates as a performance record: the shape realized performance has."""

from __future__ import annotations

from datetime import UTC, datetime

from shipml.monitoring import EstimateResult, PerformanceRecord, estimated_record

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 2, tzinfo=UTC)


def _record(*estimates: EstimateResult) -> PerformanceRecord:
    return estimated_record(
        estimates,
        ("roc_auc", "f1", "accuracy"),
        window="20260101T0000Z",
        window_start=START,
        window_end=END,
        model_version="3",
    )


def test_judged_estimates_become_results_and_the_rest_only_metrics() -> None:
    fell = EstimateResult(
        metric="roc_auc", value=0.61, baseline_mean=0.8, baseline_std=0.05, z=-3.8,
        dropped=True, rows=200, n_chunks=12, method="chunks",
    )  # fmt: skip
    accuracy = EstimateResult(
        metric="accuracy", value=0.9, baseline_mean=0.91, baseline_std=0.02, z=-0.5,
        rows=200, n_chunks=3, method="clt",
    )  # fmt: skip
    precision = EstimateResult(
        metric="precision", value=0.4, baseline_mean=0.5, baseline_std=0.01, z=-10,
        dropped=True, rows=200, n_chunks=12,
    )  # fmt: skip
    undefined = EstimateResult(
        metric="f1", value=None, rows=200, method="not judged", note="undefined"
    )

    record = _record(fell, accuracy, precision, undefined)

    assert record.kind == "estimated" and record.labels == 0 and record.predictions == 200
    assert record.metrics == {"roc_auc": 0.61, "accuracy": 0.9, "precision": 0.4}
    assert [(r.metric, r.method, r.chunk_size) for r in record.results] == [
        ("roc_auc", "chunks", 200),
        ("accuracy", "clt", 200),
    ]
    assert [r.metric for r in record.degraded] == ["roc_auc"]  # precision does not alert
    assert record.judged and record.reason == "f1 undefined"


def test_a_window_with_no_judged_estimate_says_why() -> None:
    few = EstimateResult(
        metric="roc_auc", value=0.8, rows=500, n_chunks=2, method="not judged",
        note="not judged (2 holdout chunks of 500 rows < 6)",
    )  # fmt: skip

    record = _record(few)

    assert not record.judged and record.results == []
    assert record.reason == "roc_auc not judged (2 holdout chunks of 500 rows < 6)"
    assert record.metrics == {"roc_auc": 0.8}
