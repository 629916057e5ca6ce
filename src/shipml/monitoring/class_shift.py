"""Prediction shift of a multiclass model: each class's predicted share, and the class mix.

Definition. The reference is the holdout's predicted classes, in holdout order. For a
window of n predictions (non-null), with n_c of class c:

- each class's share s_c = n_c / n is judged by the k-sigma rule of `shift`: the
  per-row value is 1 when the row is predicted c, the reference mean and standard
  deviation are those of the share over holdout chunks of n rows (below 6 chunks,
  p_c and sqrt(p_c (1 - p_c) / n), p_c the holdout share);
- the mix is judged by a chi-square goodness-of-fit test of the window's counts against
  the holdout's shares (expected n p_c; df = classes the holdout predicted - 1), at the
  level alpha = P(|N(0, 1)| > k), 4.55% for k = 2: the two-sided tail of the k-sigma
  rule. The Jensen-Shannon distance (base 2) of the two mixes is reported beside it.

Verdict. The mix shifted when the test rejects, or when the window predicts a class the
holdout never predicted (or one the model was not trained on: the profile's "other"
bucket). A class is flagged when the mix shifted and its own share lies more than k
sigma away. Without a shift a window is therefore flagged at most at rate alpha (the
test's level; the tests measure it on windows drawn from a holdout), the same rate as
the binary rule, however many classes there are; k sigma on every class alone would
flag about K x 4.6% of windows. A tripled class share moves both the test and that
class's z, and the alert names the class.
"""

from __future__ import annotations

import base64
import math
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, field_validator
from scipy import stats

from shipml.errors import MonitoringError
from shipml.monitoring.metrics import jensen_shannon_distance
from shipml.monitoring.profiles import CategoricalColumnProfile, Profile
from shipml.monitoring.shift import DEFAULT_K, DEFAULT_MAX_VALUES, MIN_CHUNKS, ShiftResult, judge

_CODE = "<u2"
MAX_CLASSES = 65_535


class ClassReference(BaseModel):
    """The holdout's predicted classes, as codes into `classes`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    statistic: Literal["class_shares"] = "class_shares"
    column: str
    classes: list[str]
    rows: int  # holdout predictions before thinning
    codes: str  # one uint16 per holdout row (index into classes), little-endian, base64

    @field_validator("codes")
    @classmethod
    def _check_codes(cls, encoded: str) -> str:
        raw = base64.b64decode(encoded, validate=True)
        if len(raw) == 0 or len(raw) % 2:
            raise ValueError("codes must encode at least one uint16")
        return encoded

    @classmethod
    def from_predictions(
        cls, predictions: pd.Series, classes: list[str], max_values: int = DEFAULT_MAX_VALUES
    ) -> ClassReference:
        """The reference of holdout predicted classes (a named Series, in holdout order).

        Holdouts longer than `max_values` rows are thinned to evenly spaced rows.
        """
        if predictions.name is None:
            raise MonitoringError("holdout predictions need a name: the class column's")
        column = str(predictions.name)
        if not classes or len(set(classes)) != len(classes) or len(classes) > MAX_CLASSES:
            raise MonitoringError(f"classes of '{column}' must be distinct, 1 to {MAX_CLASSES}")
        nulls = int(predictions.isna().sum())
        if nulls or len(predictions) == 0:
            raise MonitoringError(f"holdout predictions '{column}' are empty or hold {nulls} nulls")
        text = predictions.map(str)
        unknown = sorted(set(text) - set(classes))
        if unknown:
            raise MonitoringError(
                f"holdout predictions '{column}' hold {unknown[:3]}, not among the classes"
            )
        codes = text.map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=_CODE)
        rows = len(codes)
        if rows > max_values:
            codes = codes[np.linspace(0, rows - 1, max_values).round().astype(np.int64)]
        return cls(
            column=column,
            classes=classes,
            rows=rows,
            codes=base64.b64encode(codes.tobytes()).decode("ascii"),
        )

    @cached_property
    def _decoded(self) -> np.ndarray:
        codes = np.frombuffer(base64.b64decode(self.codes), dtype=_CODE).astype(np.intp)
        codes.flags.writeable = False
        return codes

    def indicator(self, label: str) -> np.ndarray:
        """1.0 where the holdout predicted `label`, else 0.0, in holdout order."""
        indicator: np.ndarray = (self._decoded == self.classes.index(label)).astype(np.float64)
        return indicator

    def shares(self) -> np.ndarray:
        """The share of (stored) holdout rows predicted each class, in `classes` order."""
        codes = self._decoded
        return np.bincount(codes, minlength=len(self.classes)) / len(codes)


class ClassMixResult(BaseModel):
    """The chi-square test of a window's predicted-class mix against the holdout's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    rows: int
    chi_square: float | None  # None when the window predicts a class the holdout never did
    degrees_of_freedom: int
    p_value: float
    alpha: float
    js_distance: float
    unseen: int  # predictions of classes the holdout never predicted, or unknown ones
    shifted: bool


def alpha_of(k: float) -> float:
    """The two-sided normal tail beyond k sigma: the k-sigma rule's false-alarm rate."""
    return math.erfc(k / math.sqrt(2))


def class_shift(
    reference: ClassReference,
    window: Profile,
    k: float = DEFAULT_K,
    min_chunks: int = MIN_CHUNKS,
) -> tuple[ClassMixResult, list[ShiftResult]]:
    """The mix test and each class's share rule for the class column of a window's profile."""
    column = window.columns.get(reference.column)
    if not isinstance(column, CategoricalColumnProfile):
        raise MonitoringError(
            f"the window profile has no categorical class column '{reference.column}'"
        )
    observed = np.array([_count(column, c) for c in reference.classes], dtype=np.int64)
    unknown = column.rows - column.nulls - int(observed.sum())  # "other" and unlisted classes
    rows = int(observed.sum()) + unknown
    if rows < 1:
        raise MonitoringError("the window has no predictions to compare with the baseline")
    mix = _mix(reference, observed, unknown, rows, k)
    shares = [
        judge(
            reference.column,
            reference.indicator(label),
            count / rows,
            rows,
            "share",
            k,
            min_chunks,
            label=label,
            warn=position == 0,
        )
        for position, (label, count) in enumerate(
            zip(reference.classes, observed.tolist(), strict=True)
        )
    ]
    flagged = [s.model_copy(update={"shifted": mix.shifted and s.shifted}) for s in shares]
    return mix, flagged


def _mix(
    reference: ClassReference, observed: np.ndarray, unknown: int, rows: int, k: float
) -> ClassMixResult:
    expected_share = reference.shares()
    seen = expected_share > 0
    unseen = unknown + int(observed[~seen].sum())
    js = jensen_shannon_distance(
        np.append(expected_share, 0.0), np.append(observed, unknown).astype(float)
    )
    dof = max(int(seen.sum()) - 1, 0)
    alpha = alpha_of(k)
    if unseen:
        return ClassMixResult(
            column=reference.column, rows=rows, chi_square=None, degrees_of_freedom=dof,
            p_value=0.0, alpha=alpha, js_distance=js, unseen=unseen, shifted=True,
        )  # fmt: skip
    expected = rows * expected_share[seen]
    chi_square = float(np.sum((observed[seen] - expected) ** 2 / expected))
    p_value = float(stats.chi2.sf(chi_square, dof)) if dof > 0 else 1.0
    return ClassMixResult(
        column=reference.column, rows=rows, chi_square=chi_square, degrees_of_freedom=dof,
        p_value=p_value, alpha=alpha, js_distance=js, unseen=0, shifted=p_value < alpha,
    )  # fmt: skip


def _count(column: CategoricalColumnProfile, label: str) -> int:
    if label not in column.categories:
        return 0
    return column.counts[column.categories.index(label)]
