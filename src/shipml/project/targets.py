"""The training target: its task, its classes and positive class, checked before any step runs.

The label is taken as it comes (bool, int, str, category; a float only when every value is
a whole number). A target the task cannot take is one `TrainingError` line naming the column
and what was found: missing values, a single class, a measurement used as a class (a float
with fractions, or more distinct values than a class label has), mixed types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from shipml.config import TrainingSettings
from shipml.errors import TrainingError
from shipml.project._shown import show

ResolvedTask = Literal["binary", "multiclass", "regression"]
MAX_CLASSES = 100
_SHOWN = 5


@dataclass(frozen=True)
class Target:
    """The checked target column: its task and, for classifiers, its classes."""

    column: str
    task: ResolvedTask
    classes: tuple[Any, ...] = ()  # Python values, in scikit-learn's order (sorted)
    positive: Any = None  # binary only
    positive_reason: str = ""  # how the positive class was chosen, said in the training output
    positive_by: Literal["", "setting", "value", "minority"] = ""  # the rule that chose it

    @property
    def is_classifier(self) -> bool:
        """Binary or multiclass."""
        return self.task != "regression"

    def as_classes(self, values: pd.Series) -> pd.Series:
        """`values` as the target's classes: a class as itself or as its text; others NaN."""
        lookup = self._lookup()
        if values.empty:
            return values.map(lambda v: lookup.get(_python(v), np.nan))
        # Each distinct value is looked up once (a window has 10,000 rows and two classes).
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
        found = [lookup.get(_python(v), np.nan) for v in distinct]
        picked = np.array([*found, np.nan], dtype=object)[codes]  # code -1 (null): NaN
        return pd.Series(picked, index=values.index, name=values.name).infer_objects()

    def is_positive(self, values: pd.Series) -> np.ndarray:
        """Whether each value is the positive class (binary), as booleans."""
        lookup = self._lookup()
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
        hits = [lookup.get(_python(v), np.nan) == self.positive for v in distinct]
        positive: np.ndarray = np.array([*hits, False], dtype=bool)[codes]  # null: not positive
        return positive

    def _lookup(self) -> dict[Any, Any]:
        """Each class, keyed by itself and by its text."""
        lookup: dict[Any, Any] = {str(c): c for c in self.classes}
        lookup.update({c: c for c in self.classes})
        return lookup

    def scored_by(self, column: str) -> Target:
        """This binary target with the positive class scikit-learn scores in `predict_proba(...)
        [:, 1]` (the last class), for a probability column not named after a class."""
        last = self.classes[-1]
        reason = (
            f"{show(last)} (the class predict_proba(...)[:, 1] scores, as {column!r} is not "
            "named after a class; set [training] positive_label to choose)"
        )
        return replace(self, positive=last, positive_reason=reason, positive_by="value")

    def describe(self) -> str:
        """One line for the training output: the task, and the positive class of a binary one."""
        if self.task == "regression":
            return f"task: regression on {self.column!r}"
        if self.task == "multiclass":
            return f"task: multiclass, {len(self.classes)} classes of {self.column!r}"
        return f"task: binary on {self.column!r}, positive class {self.positive_reason}"


def read_target(frame: pd.DataFrame, settings: TrainingSettings) -> Target:
    """The target of the training data, checked against `[training]`'s task."""
    column = settings.target
    if column not in frame.columns:
        shown = ", ".join(map(str, frame.columns[:20]))
        raise TrainingError(f"training data has no target column {column!r} (columns: {shown})")
    values = frame[column]
    _refuse_missing(values, column)
    if settings.task == "regression":
        _refuse_for_regression(values, column)
        return Target(column, "regression")
    classes = _classes(values, column)
    task = _task(settings, classes, column)
    if task == "multiclass":
        _refuse_binary_settings(settings, classes, column)
        return Target(column, "multiclass", classes)
    positive, reason, rule = _positive(values, classes, settings.positive_label, column)
    return Target(column, "binary", classes, positive, reason, rule)


def _refuse_missing(values: pd.Series, column: str) -> None:
    missing = values.isna().to_numpy()
    if missing.any():
        rows = ", ".join(str(r) for r in np.flatnonzero(missing)[:_SHOWN])
        raise TrainingError(
            f"target {column!r} has {int(missing.sum())} missing values in {len(values)} rows "
            f"(rows {rows}{', ...' if missing.sum() > _SHOWN else ''}): drop or label those "
            "rows before training"
        )


def _refuse_for_regression(values: pd.Series, column: str) -> None:
    if pd.api.types.is_bool_dtype(values.dtype):
        raise TrainingError(
            f"target {column!r} is true/false, a classification target: set [training] "
            'task = "binary"'
        )
    if not pd.api.types.is_numeric_dtype(values.dtype):
        raise TrainingError(
            f"target {column!r} holds {_kind(values)} (e.g. {_examples(values)}): regression "
            'needs numbers; set [training] task = "classification"'
        )
    if values.nunique() < 2:
        raise TrainingError(
            f"target {column!r} has a single value ({show(_python(values.iloc[0]))} in all "
            f"{len(values)} rows): there is nothing to learn"
        )


def _classes(values: pd.Series, column: str) -> tuple[Any, ...]:
    """The distinct labels as Python values, sorted as scikit-learn sorts them."""
    if pd.api.types.is_float_dtype(values.dtype):
        fractional = values[values != np.round(values)]
        if len(fractional):
            raise TrainingError(
                f"target {column!r} holds measurements ({values.nunique()} distinct floats, "
                f"e.g. {_examples(fractional)}), not classes: set [training] task = "
                '"regression", or round or bin the target into classes'
            )
    distinct = pd.unique(values.to_numpy(dtype=object))
    try:
        classes = tuple(sorted(_python(value) for value in distinct))
    except TypeError:
        types = sorted({type(_python(value)).__name__ for value in distinct})
        raise TrainingError(
            f"target {column!r} mixes label types ({' and '.join(types)}, e.g. "
            f"{_examples(values)}): make every label the same type"
        ) from None
    if len(distinct) > MAX_CLASSES or (len(distinct) > 2 and len(distinct) > len(values) // 2):
        raise TrainingError(
            f"target {column!r} has {len(distinct)} distinct values in {len(values)} rows "
            f"(e.g. {_examples(values)}): too many for classes (at most {MAX_CLASSES}, and "
            'two rows per class on average); set [training] task = "regression" if it is a '
            "measurement"
        )
    if len(classes) < 2:
        raise TrainingError(
            f"target {column!r} has a single class ({show(classes[0])} in all {len(values)} "
            "rows): a classifier needs at least two"
        )
    return classes


def _task(settings: TrainingSettings, classes: Sequence[Any], column: str) -> ResolvedTask:
    shown = ", ".join(show(c) for c in classes[:_SHOWN]) + (
        ", ..." if len(classes) > _SHOWN else ""
    )
    if settings.task == "binary" and len(classes) > 2:
        raise TrainingError(
            f'task = "binary" but target {column!r} has {len(classes)} classes ({shown}); '
            'set task = "multiclass" (or "classification")'
        )
    if settings.task == "multiclass" and len(classes) == 2:
        raise TrainingError(
            f'task = "multiclass" but target {column!r} has 2 classes ({shown}); '
            'set task = "binary" (or "classification")'
        )
    return "binary" if len(classes) == 2 else "multiclass"


def _refuse_binary_settings(
    settings: TrainingSettings, classes: Sequence[Any], column: str
) -> None:
    for key in ("positive_label", "threshold"):
        if key in settings.model_fields_set:
            raise TrainingError(
                f"[training] {key} is for binary targets; {column!r} has {len(classes)} classes"
            )


def _positive(
    values: pd.Series, classes: tuple[Any, ...], configured: Any, column: str
) -> tuple[Any, str, Literal["setting", "value", "minority"]]:
    """The positive class and how it was chosen: configured, True, 1, else the minority."""
    if configured is not None:
        found = _matching(classes, configured)
        if found is None:
            shown = " and ".join(show(c) for c in classes)
            raise TrainingError(
                f"[training] positive_label {show(configured)} is not a class of target "
                f"{column!r} (its classes: {shown})"
            )
        return found, f"{show(found)} ([training] positive_label)", "setting"
    for natural in (True, 1):
        found = next((c for c in classes if c == natural and type(c) is type(natural)), None)
        if found is None and natural == 1:
            found = next((c for c in classes if isinstance(c, float) and c == 1.0), None)
        if found is not None:
            return found, show(found), "value"
    counts = values.map(_python).value_counts()
    minority = min(classes, key=lambda c: (int(counts.get(c, 0)), -classes.index(c)))
    return (
        minority,
        f"{show(minority)} (the minority class: {int(counts.get(minority, 0))} of "
        f"{len(values)} rows; set [training] positive_label to choose)",
        "minority",
    )


def _matching(classes: tuple[Any, ...], configured: Any) -> Any:
    """The class equal to `configured`: as it is, as text, or as text ignoring case."""
    rules: tuple[Callable[[Any], bool], ...] = (
        lambda c: bool(c == configured) and type(c) is type(configured),
        lambda c: str(c) == str(configured),
        lambda c: str(c).lower() == str(configured).lower(),
    )
    for same in rules:
        found = [c for c in classes if same(c)]
        if len(found) == 1:
            return found[0]
    return None


def _python(value: Any) -> Any:
    """A numpy scalar as the Python value (so that labels sort, compare and go into JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def _kind(values: pd.Series) -> str:
    return "text" if not pd.api.types.is_numeric_dtype(values.dtype) else str(values.dtype)


def _examples(values: pd.Series) -> str:
    return ", ".join(show(_python(v)) for v in pd.unique(values.to_numpy(dtype=object))[:3])
