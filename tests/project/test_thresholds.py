"""The binary decision threshold: a number, or the best one on the holdout by F1 or Youden's J."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from shipml.errors import TrainingError
from shipml.project.thresholds import describe_threshold, pick_threshold


def _holdout(seed: int, rows: int = 2000, rate: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    positive = rng.random(rows) < rate
    probability = 1 / (1 + np.exp(-(rng.normal(0, 1, rows) + 2.5 * positive - 3)))
    return positive, probability


def _counts(positive: np.ndarray, probability: np.ndarray) -> tuple[np.ndarray, ...]:
    """True and false positives at every candidate threshold (each distinct probability)."""
    decided = probability[None, :] >= np.unique(probability)[:, None]
    return (decided & positive).sum(axis=1), (decided & ~positive).sum(axis=1)


def _best_f1(positive: np.ndarray, probability: np.ndarray) -> float:
    true, false = _counts(positive, probability)
    return float((2 * true / (2 * true + false + (positive.sum() - true))).max())


def _best_youden(positive: np.ndarray, probability: np.ndarray) -> float:
    true, false = _counts(positive, probability)
    return float((true / positive.sum() - false / (~positive).sum()).max())


def _youden(positive: np.ndarray, decided: np.ndarray) -> float:
    return metrics.recall_score(positive, decided) - (decided & ~positive).sum() / (~positive).sum()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_f1_picks_the_threshold_with_the_best_f1_on_the_holdout(seed: int) -> None:
    positive, probability = _holdout(seed)

    threshold = pick_threshold("f1", positive, probability)

    f1 = metrics.f1_score(positive, probability >= threshold)
    assert f1 == pytest.approx(_best_f1(positive, probability))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_youden_picks_the_threshold_farthest_above_the_roc_diagonal(seed: int) -> None:
    positive, probability = _holdout(seed)

    threshold = pick_threshold("youden", positive, probability)

    j = _youden(positive, probability >= threshold)
    assert j == pytest.approx(_best_youden(positive, probability))


def test_a_number_is_the_threshold_and_the_output_says_where_it_came_from() -> None:
    positive, probability = _holdout(4)

    assert pick_threshold(0.3, positive, probability) == 0.3
    assert describe_threshold(0.3, 0.3) == "decision threshold 0.3 ([training] threshold)"
    assert describe_threshold("f1", 0.41234) == (
        "decision threshold 0.4123 (maximises F1 on the holdout)"
    )


def test_a_holdout_of_one_class_cannot_pick_a_threshold() -> None:
    with pytest.raises(TrainingError, match="whose 40 rows are all negative: raise holdout_frac"):
        pick_threshold("youden", np.zeros(40, dtype=bool), np.linspace(0, 1, 40))
