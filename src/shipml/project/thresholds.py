"""The binary decision threshold: a number, or the one that is best on the holdout.

A row is decided positive when the probability of the positive class is at least the
threshold (`probability >= threshold`), as scikit-learn's curves count it.

- "f1": the threshold with the highest F1 on the holdout (`precision_recall_curve`);
- "youden": the one with the highest Youden's J = TPR - FPR (`roc_curve`), the point of
  the ROC curve farthest above the diagonal, which weighs both classes' errors equally
  (a good choice when positives are rare and F1 would favour precision).

Ties go to the lowest such threshold.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as sk_metrics

from shipml.errors import TrainingError

DEFAULT_THRESHOLD = 0.5
_RULES = {"f1": "maximises F1 on the holdout", "youden": "maximises TPR - FPR on the holdout"}


def pick_threshold(rule: float | str, positive: np.ndarray, probability: np.ndarray) -> float:
    """The threshold `rule` gives on these holdout truths (booleans) and probabilities."""
    if not isinstance(rule, str):
        return float(rule)
    if positive.all() or not positive.any():
        only = "positive" if positive.all() else "negative"
        raise TrainingError(
            f"[training] threshold = {rule!r} is picked on the holdout, whose "
            f"{len(positive)} rows are all {only}: raise holdout_fraction or set a number"
        )
    if rule == "f1":
        precision, recall, thresholds = sk_metrics.precision_recall_curve(positive, probability)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)
        return float(thresholds[int(np.argmax(f1[:-1]))])
    false_positive, true_positive, thresholds = sk_metrics.roc_curve(
        positive, probability, drop_intermediate=False
    )
    finite = np.isfinite(thresholds)
    j = (true_positive - false_positive)[finite]
    best = np.flatnonzero(j == j.max())
    return float(thresholds[finite][best].min())


def describe_threshold(rule: float | str, threshold: float) -> str:
    """'decision threshold 0.31 (maximises F1 on the holdout)', for the training output."""
    reason = _RULES.get(rule) if isinstance(rule, str) else "[training] threshold"
    return f"decision threshold {threshold:.4g} ({reason})"
