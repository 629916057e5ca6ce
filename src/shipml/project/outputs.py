"""Which columns of the predict step's output contract are the prediction, read before training.

- regression: the predicted value, `[training] prediction`, else the column named like the
  target, else the only float column the predict step adds.
- classifiers: the predicted class, `[training] prediction`, else the column named like the
  target, else the one column the predict step adds that can hold the classes (a `Literal`
  of them, or their type); and the class probabilities, float columns named `<prefix><class>`
  for every class (`probability_setosa`, ...), `[training] probabilities` naming the prefix.
  A binary prediction may carry the positive class's probability only (`probability_malignant`,
  or the only float column the step adds, or `[training] prediction` naming a float column).

A multiclass prediction needs its class column (monitoring watches each class's share); a
binary one needs its class column or its positive class's probability.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pandas as pd
from pydantic import BaseModel

from shipml.config import TrainingSettings
from shipml.errors import TrainingError
from shipml.project._shown import show
from shipml.project.targets import Target


@dataclass(frozen=True)
class PredictionLayout:
    """The prediction's columns: the predicted class or value, and class probabilities."""

    label: str | None  # the predicted class (classifiers) or value (regression)
    probabilities: dict[Any, str] = field(default_factory=dict)  # class -> column
    unnamed: bool = False  # binary: the probability column is not named after its class

    def probability_of(self, label: Any) -> str | None:
        """The column holding the probability of class `label`, if the prediction has one."""
        return self.probabilities.get(label)

    def columns(self) -> list[str]:
        """Every column of the layout, label first."""
        return [*([self.label] if self.label else []), *self.probabilities.values()]

    def describe(self) -> str:
        """'class in species, probabilities in probability_*', for the training output."""
        parts = [f"prediction in {self.label!r}"] if self.label else []
        if self.probabilities:
            parts.append(f"probabilities in {', '.join(map(repr, self.probabilities.values()))}")
        return "; ".join(parts)


def read_layout(
    output: type[BaseModel],
    predict_input: type[BaseModel] | None,
    target: Target,
    settings: TrainingSettings,
) -> PredictionLayout:
    """The layout of `output` for `target`; a `TrainingError` when it cannot be told."""
    fields = {name: _bare(info.annotation) for name, info in output.model_fields.items()}
    taken = set(predict_input.model_fields) if predict_input is not None else set()
    added = {name: kind for name, kind in fields.items() if name not in taken}
    named = settings.prediction
    if named is not None and named not in fields:
        raise TrainingError(
            f"[training] prediction {named!r} is not a column of {output.__name__} "
            f"(its columns: {', '.join(fields)})"
        )
    if target.task == "regression":
        return PredictionLayout(_value_column(output.__name__, fields, added, target, settings))
    probabilities = _probabilities(output.__name__, fields, added, target, settings)
    label = _label_column(fields, added, target, settings, probabilities)
    unnamed = False
    if target.task == "binary" and not probabilities:
        probabilities = _lone_probability(fields, added, label, target, settings)
        unnamed = bool(probabilities)
    _check_enough(output.__name__, target, label, probabilities)
    return PredictionLayout(label, probabilities, unnamed)


def check_values(layout: PredictionLayout, target: Target, predictions: pd.DataFrame) -> None:
    """The holdout predictions fit the layout: classes among the target's, numbers in [0, 1]."""
    if target.is_classifier and layout.label is not None:
        known = set(target.classes) | {str(c) for c in target.classes}
        found = pd.unique(predictions[layout.label].dropna().to_numpy(dtype=object))
        unknown = [v for v in found if _python(v) not in known]
        if unknown:
            raise TrainingError(
                f"predict's {layout.label!r} holds values that are not classes of target "
                f"{target.column!r}: {', '.join(show(_python(v)) for v in unknown[:3])} "
                f"(its classes: {', '.join(show(c) for c in target.classes[:5])})"
            )
    for column in layout.probabilities.values():
        values = pd.to_numeric(predictions[column], errors="coerce")
        outside = values.isna() | (values < 0) | (values > 1)
        if outside.any():
            example = show(predictions[column][outside].iloc[0])
            raise TrainingError(
                f"predict's probability column {column!r} holds {int(outside.sum())} values "
                f"that are not probabilities in [0, 1] (e.g. {example})"
            )


def _value_column(
    contract: str,
    fields: dict[str, Any],
    added: dict[str, Any],
    target: Target,
    settings: TrainingSettings,
) -> str:
    if settings.prediction is not None:
        return settings.prediction
    if target.column in fields:
        return target.column
    floats = [name for name, kind in added.items() if kind is float]
    if len(floats) != 1:
        raise TrainingError(
            f"cannot tell which column of {contract} is the prediction (float columns the "
            f"predict step adds: {floats}); set [training] prediction in shipml.toml"
        )
    return floats[0]


def _probabilities(
    contract: str,
    fields: dict[str, Any],
    added: dict[str, Any],
    target: Target,
    settings: TrainingSettings,
) -> dict[Any, str]:
    """Class -> column, for columns named `<prefix><class>` (every class, or binary's positive)."""
    if settings.probabilities is not None:
        found = _with_prefix(fields, target.classes, settings.probabilities)
        wanted = (target.positive,) if target.task == "binary" else target.classes
        missing = [settings.probabilities + str(c) for c in wanted if c not in found]
        if missing:
            raise TrainingError(
                f"[training] probabilities {settings.probabilities!r}: {contract} has no "
                f"column {', '.join(map(repr, missing))}"
            )
        return found
    floats = {name: kind for name, kind in added.items() if kind is float}
    prefixes = {
        name[: len(name) - len(str(c))]
        for name in floats
        for c in target.classes
        if name.endswith(str(c))
    }
    complete = [
        p for p in prefixes if len(_with_prefix(floats, target.classes, p)) == len(target.classes)
    ]
    if complete:
        return _with_prefix(floats, target.classes, max(complete, key=len))
    if target.task == "binary":
        for prefix in sorted(prefixes, key=len, reverse=True):
            found = _with_prefix(floats, (target.positive,), prefix)
            if found:
                return found
    return {}


def _with_prefix(fields: dict[str, Any], classes: tuple[Any, ...], prefix: str) -> dict[Any, str]:
    return {c: prefix + str(c) for c in classes if fields.get(prefix + str(c)) is float}


def _label_column(
    fields: dict[str, Any],
    added: dict[str, Any],
    target: Target,
    settings: TrainingSettings,
    probabilities: dict[Any, str],
) -> str | None:
    named = settings.prediction
    if named is not None and fields[named] is not float:
        return named
    if target.column in fields and fields[target.column] is not float:
        return target.column
    taken = set(probabilities.values()) | {named}
    candidates = [
        name for name, kind in added.items() if name not in taken and _holds(kind, target.classes)
    ]
    return candidates[0] if len(candidates) == 1 else None


def _lone_probability(
    fields: dict[str, Any],
    added: dict[str, Any],
    label: str | None,
    target: Target,
    settings: TrainingSettings,
) -> dict[Any, str]:
    """Binary: `[training] prediction` naming a float column, else the only float one added."""
    named = settings.prediction
    if named is not None and fields[named] is float:
        return {target.positive: named}
    floats = [name for name, kind in added.items() if kind is float and name != label]
    return {target.positive: floats[0]} if len(floats) == 1 else {}


def _check_enough(
    contract: str, target: Target, label: str | None, probabilities: dict[Any, str]
) -> None:
    if target.task == "multiclass" and label is None:
        raise TrainingError(
            f"{contract} has no column for the predicted class of {target.column!r}: add one "
            f"named {target.column!r} (e.g. a Literal of the classes), or name it in "
            "[training] prediction"
        )
    if target.task == "binary" and label is None and not probabilities:
        raise TrainingError(
            f"{contract} has neither a column for the predicted class of {target.column!r} nor "
            f"one for the probability of {show(target.positive)}; add one, or name it in "
            "[training] prediction"
        )


def _holds(kind: Any, classes: tuple[Any, ...]) -> bool:
    """Whether a field of this (bare) type can hold every class, as a class column would."""
    if get_origin(kind) is Literal:
        return all(c in get_args(kind) for c in classes)
    if kind is bool:
        return all(isinstance(c, bool) for c in classes)
    if kind is int:
        return all(isinstance(c, int) and not isinstance(c, bool) for c in classes)
    if kind is str:
        return all(isinstance(c, str) for c in classes)
    return False


def _bare(annotation: Any) -> Any:
    """`X` from `X | None` and `Annotated[X, ...]`."""
    if get_origin(annotation) is Annotated:
        return _bare(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        members = [m for m in get_args(annotation) if m is not type(None)]
        return _bare(members[0]) if len(members) == 1 else annotation
    return annotation


def _python(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value
