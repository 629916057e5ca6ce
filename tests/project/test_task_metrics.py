"""Metrics by task on small holdouts: what a holdout cannot define is left out, with a note."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from shipml.project.outputs import PredictionLayout
from shipml.project.targets import Target
from shipml.project.task_metrics import metric_key, regression_scores, roc_auc, score_holdout

CANCER = Target("diagnosis", "binary", ("benign", "malignant"), "malignant")
DIGITS = Target("digit", "multiclass", (0, 1, 2))


def test_a_binary_prediction_without_probabilities_gets_the_decisions_metrics_only() -> None:
    truth = pd.Series(["malignant", "benign", "benign", "malignant", "benign"])
    predicted = pd.DataFrame({"call": ["malignant", "benign", "malignant", "benign", "benign"]})

    scores = score_holdout(CANCER, PredictionLayout("call"), truth, predicted)

    actual, decided = truth == "malignant", predicted["call"] == "malignant"
    assert scores.metrics == pytest.approx(
        {
            "precision": metrics.precision_score(actual, decided),
            "recall": metrics.recall_score(actual, decided),
            "f1": metrics.f1_score(actual, decided),
            "balanced_accuracy": metrics.balanced_accuracy_score(actual, decided),
            "accuracy": metrics.accuracy_score(actual, decided),
            "positive_rate": 0.4,
        }
    )
    assert scores.confusion is not None and scores.confusion.counts == [[2, 1], [1, 1]]
    assert scores.confusion.to_csv().splitlines() == [
        "truth,benign,malignant",
        "benign,2,1",
        "malignant,1,1",
    ]


@pytest.mark.parametrize("positive", ["malignant", "benign"])  # first or last class
@pytest.mark.parametrize(
    ("truth", "called"),
    [
        ("random", "random"),
        ("random", "none"),  # nothing called positive: precision and F1 0
        ("one class", "random"),  # balanced accuracy is the one class's recall
        ("one class", "none"),
        ("random", "truth"),
    ],
)
def test_the_decisions_metrics_and_confusion_matrix_are_scikit_learns(
    positive: str, truth: str, called: str
) -> None:
    target = Target("diagnosis", "binary", ("benign", "malignant"), positive)
    other = "benign" if positive == "malignant" else "malignant"
    rng = np.random.default_rng(len(truth) + len(called))
    actual = rng.random(500) < 0.3 if truth == "random" else np.zeros(500, dtype=bool)
    decided = {"random": rng.random(500) < 0.4, "none": np.zeros(500, bool), "truth": actual}
    labels = pd.Series(np.where(actual, positive, other))
    calls = pd.DataFrame({"call": np.where(decided[called], positive, other)})

    scores = score_holdout(target, PredictionLayout("call"), labels, calls)

    said = decided[called]
    assert scores.metrics == pytest.approx(
        {
            "precision": metrics.precision_score(actual, said, zero_division=0),
            "recall": metrics.recall_score(actual, said, zero_division=0),
            "f1": metrics.f1_score(actual, said, zero_division=0),
            "balanced_accuracy": metrics.balanced_accuracy_score(actual, said),
            "accuracy": metrics.accuracy_score(actual, said),
            "positive_rate": actual.mean(),
        },
        rel=1e-12,
    )
    expected = metrics.confusion_matrix(labels, calls["call"], labels=["benign", "malignant"])
    assert scores.confusion is not None and scores.confusion.counts == expected.tolist()


@pytest.mark.parametrize("rows", [2, 7, 1_000, 20_000])
@pytest.mark.parametrize("decimals", [1, 3, 12])  # many ties, some, next to none
def test_roc_auc_is_scikit_learns(rows: int, decimals: int) -> None:
    rng = np.random.default_rng(rows + decimals)
    truth = np.r_[True, False, rng.random(rows - 2) < 0.2]  # both classes, always
    scores = np.round(np.clip(rng.normal(0.3 + 0.2 * truth, 0.2), 0, 1), decimals)

    assert roc_auc(truth, scores) == pytest.approx(metrics.roc_auc_score(truth, scores), rel=1e-12)
    assert roc_auc(truth.astype(int), scores) == roc_auc(truth, scores)  # 0/1 truth too


def test_roc_auc_of_scores_with_a_nan_is_scikit_learns_error() -> None:
    with pytest.raises(ValueError, match="NaN"):
        roc_auc(np.array([True, False]), np.array([0.5, np.nan]))


def test_a_holdout_of_one_class_leaves_the_aucs_out_and_says_so() -> None:
    truth = pd.Series(["benign"] * 4)
    predicted = pd.DataFrame({"p": [0.1, 0.2, 0.7, 0.3]})

    scores = score_holdout(
        CANCER, PredictionLayout(None, {"malignant": "p"}), truth, predicted, 0.5
    )

    assert "roc_auc" not in scores.metrics and "average_precision" not in scores.metrics
    assert scores.notes == ["ROC AUC and PR AUC left out: the holdout has one class only"]
    assert scores.metrics["accuracy"] == 0.75  # 0.7 >= 0.5 is the one mistake


def test_multiclass_classes_match_as_text_and_an_absent_class_leaves_the_ovr_auc_out() -> None:
    truth = pd.Series([0, 1, 1, 0, 1])  # class 2 is not in this holdout
    probabilities = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.6, 0.2, 0.2],
                              [0.1, 0.8, 0.1]])  # fmt: skip
    predicted = pd.DataFrame(probabilities, columns=["p_0", "p_1", "p_2"]).assign(
        digit=["0", "1", "2", "0", "1"]  # the predict step wrote the classes as text
    )
    layout = PredictionLayout("digit", {0: "p_0", 1: "p_1", 2: "p_2"})

    scores = score_holdout(DIGITS, layout, truth, predicted)

    assert scores.metrics["accuracy"] == 0.8
    assert scores.metrics["log_loss"] == pytest.approx(
        metrics.log_loss(truth, probabilities, labels=[0, 1, 2])
    )
    assert "roc_auc_ovr" not in scores.metrics
    assert scores.notes == ["one-vs-rest AUC left out: class 2 is not in the holdout"]
    assert (scores.metrics["precision.2"], scores.metrics["recall.1"]) == (
        0.0,
        pytest.approx(2 / 3),
    )


def test_mape_is_left_out_when_the_target_touches_zero() -> None:
    kept = regression_scores(np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0]))
    left_out = regression_scores(np.array([0.0, 2.0, 4.0]), np.array([0.5, 2.0, 3.0]))

    assert kept.metrics["mape"] == pytest.approx((0.5 + 0 + 0.25) / 3)
    assert "mape" not in left_out.metrics
    assert left_out.notes == ["MAPE left out: the target crosses or touches zero"]


def test_a_class_name_becomes_a_metric_name_mlflow_accepts() -> None:
    assert metric_key("Iris-setosa") == "Iris-setosa"
    assert metric_key("très bien (5★)") == "tr_s bien _5__"
