"""Realized performance judged by holdout chunks: quiet on undisturbed windows, loud on a bad model.

A calibrated synthetic binary model: each row's probability p, its truth drawn as p says.
The holdout and the windows come from the same process; the rule (one-sided, k = 2, two
metrics: ROC AUC and F1) is documented to fire on about 4.6% of such windows at most. A
model whose relation to the truth broke (a third of the labels now contradict it) keeps
its prediction distribution exactly, and is caught by its labels.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from shipml.monitoring import (
    JUDGED,
    PerformanceRecord,
    chunk_indices,
    judge_metric,
    performance_alerts,
)
from shipml.project.outputs import PredictionLayout
from shipml.project.performance import judge_window, performance_reference, reference_baseline
from shipml.project.targets import Target
from shipml.windows import Window

TARGET = Target("failed", "binary", (False, True), True)
LAYOUT = PredictionLayout("predicted", {True: "probability_true"})
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 1, tzinfo=UTC))
ROWS = 400
WINDOWS = 60


def _draw(rng: np.random.Generator, n: int, broken: float = 0.0) -> tuple[pd.Series, pd.DataFrame]:
    """Calibrated predictions and their truth; `broken` of the truths flipped."""
    probability = rng.beta(1.2, 3.0, n)
    truth = rng.random(n) < probability
    flip = rng.random(n) < broken
    truth = np.where(flip, ~truth, truth)
    predictions = pd.DataFrame({"predicted": probability >= 0.5, "probability_true": probability})
    return pd.Series(truth), predictions


def _judge(
    rng: np.random.Generator, broken: float, reference: object, baseline: object
) -> PerformanceRecord:
    truth, predictions = _draw(rng, ROWS, broken)
    return judge_window(
        reference,  # type: ignore[arg-type]  # a PerformanceReference, built below
        truth,
        predictions,
        window=WINDOW,
        name=WINDOW.key,
        model_version="1",
        predicted=ROWS,
        min_labels=50,
        baseline=baseline,  # type: ignore[arg-type]  # reference_baseline's result
    )


@pytest.fixture(scope="module")
def reference() -> object:
    truth, predictions = _draw(np.random.default_rng(0), 20_000)
    return performance_reference(TARGET, LAYOUT, truth, predictions, 0.5)


@pytest.fixture(scope="module")
def baseline(reference: object) -> object:
    return reference_baseline(reference, ROWS)  # type: ignore[arg-type]


def test_undisturbed_windows_stay_quiet_at_the_documented_rate(
    reference: object, baseline: object
) -> None:
    rng = np.random.default_rng(1)
    records = [_judge(rng, 0.0, reference, baseline) for _ in range(WINDOWS)]

    alarmed = sum(bool(record.degraded) for record in records)
    assert all(record.judged for record in records)
    assert {r.metric for r in records[0].results} == set(JUDGED["binary"])
    # At most 4.6% expected (2.8 of 60); 9 of 60 is beyond the binomial 99.9% bound of that rate.
    assert alarmed <= 9, alarmed


def test_a_model_whose_labels_broke_is_caught_though_its_predictions_did_not_move(
    reference: object, baseline: object
) -> None:
    rng = np.random.default_rng(2)
    records = [_judge(rng, 0.3, reference, baseline) for _ in range(15)]

    caught = sum(any(r.metric == "roc_auc" for r in record.degraded) for record in records)
    assert caught >= 14, caught
    (alert, *_) = performance_alerts(records[0])
    assert alert.rule == "performance.realized" and "below" in alert.message


def test_a_window_with_too_few_labels_is_not_judged(reference: object) -> None:
    truth, predictions = _draw(np.random.default_rng(3), 30)
    record = judge_window(
        reference,  # type: ignore[arg-type]
        truth,
        predictions,
        window=WINDOW,
        name=WINDOW.key,
        model_version="1",
        predicted=100,
        min_labels=50,
    )
    assert not record.judged and record.reason == "not judged (30 labels < 50)"
    assert record.metrics["accuracy"] > 0 and record.results == []
    assert performance_alerts(record) == []


def test_small_holdouts_fall_back_to_seeded_bootstrap_chunks() -> None:
    consecutive, how = chunk_indices(1000, 100)
    assert how == "chunks" and len(consecutive) == 10
    drawn, how = chunk_indices(1000, 400)
    again, _ = chunk_indices(1000, 400)
    assert how == "bootstrap" and len(drawn) == 50
    assert all((a == b).all() for a, b in zip(drawn, again, strict=True))


def test_lower_is_better_metrics_degrade_upwards() -> None:
    chunks = np.array([1.0, 1.1, 0.9, 1.0, 1.05, 0.95])
    assert judge_metric("rmse", 1.5, chunks, 100, "chunks").degraded
    assert not judge_metric("rmse", 0.5, chunks, 100, "chunks").degraded
    assert judge_metric("r2", 0.5, chunks, 100, "chunks").degraded
    assert not judge_metric("r2", 1.5, chunks, 100, "chunks").degraded


def test_the_chunks_judged_metrics_are_the_training_metrics(reference: object) -> None:
    from shipml.project.performance import judged_metrics
    from shipml.project.task_metrics import score_holdout

    truth, predictions = _draw(np.random.default_rng(4), 500)
    everything = score_holdout(TARGET, LAYOUT, truth, predictions, 0.5).metrics
    judged = judged_metrics(TARGET, LAYOUT, truth, predictions, 0.5)
    assert judged == {name: everything[name] for name in JUDGED["binary"]}
