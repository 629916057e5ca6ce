"""Which of the models a notebook fits is the one it keeps: the one making its last predictions.

Notebooks try models in turn (a logistic regression, a tree, a forest) and keep one; the last
scoring call names it, directly (`rf.predict(...)`), through an alias (`best = rf`,
`grid.best_estimator_`) or through a notebook function it is passed to. A model picked by code
(`models[max(scores, key=scores.get)]`) is refused: which one to train is not in the code.
"""

from __future__ import annotations

import ast
from typing import NoReturn

from shipml.errors import Blocker, NotConvertible
from shipml.notebooks.check.findings import FindingKind
from shipml.notebooks.check.roles import ModelFit, Scoring
from shipml.notebooks.check.statements import Statement


def kept_model(
    fits: list[ModelFit], scorings: list[Scoring], ordered: list[Statement]
) -> tuple[str, Scoring]:
    """The model making the notebook's last predictions, and that scoring call."""
    fitted = {f.model for f in fits}
    last_fit = fits[-1]
    if not scorings:
        names = ", ".join(f"`{m}`" for m in dict.fromkeys(f.model for f in fits))
        _refuse(
            last_fit.statement.cell,
            last_fit.statement.line,
            f"no cell scores rows with a fitted model ({names} fitted; `.predict(...)` or "
            "`.predict_proba(...)` on rows): the predict step is made from the notebook's own "
            "scoring",
            FindingKind.NO_SCORING,
        )
    final = scorings[-1]
    if final.function is not None:
        return _model_passed_to(final, fitted, ordered) or last_fit.model, final
    receiver = final.receiver
    if receiver in fitted:
        return receiver, final
    alias = _alias_of(receiver, final.statement, ordered, fitted)
    if alias is not None:
        return alias, final
    binding = _last_binding(receiver, final.statement, ordered)
    where = f" (bound in cell {binding.cell})" if binding else ""
    _refuse(
        final.cell,
        final.call.lineno + final.statement.line - 1,
        f"`{receiver}`{where}, which makes the notebook's last predictions, is picked among the "
        f"models by code (fitted: {', '.join(f'`{m}`' for m in sorted(fitted))}): shipml cannot "
        "tell which model to train; keep the one you want by name "
        f"(`{receiver} = <the model>`), or choose it by cross-validation on the training rows",
        FindingKind.MODEL_CHOSEN_BY_CODE,
    )
    raise AssertionError  # unreachable: _refuse raises


def fit_of(
    fits: list[ModelFit], model: str, scoring: Scoring, ordered: list[Statement]
) -> ModelFit:
    before = [
        f
        for f in fits
        if f.model == model
        and _position(ordered, f.statement) <= _position(ordered, scoring.statement)
    ]
    if not before:
        _refuse(
            scoring.cell,
            None,
            f"`{model}` scores rows but no cell before fits it",
            FindingKind.NO_SCORING,
        )
    fit = before[-1]
    if fit.in_loop:
        _refuse(
            fit.statement.cell,
            fit.call.lineno + fit.statement.line - 1,
            f"`{model}` is fitted in a loop: fit the model you keep in a statement of its own",
            FindingKind.MODEL_FITTED_IN_LOOP,
        )
    return fit


def _model_passed_to(scoring: Scoring, fitted: set[str], ordered: list[Statement]) -> str | None:
    """The fitted model a notebook function that scores rows is called with."""
    function = scoring.function
    assert function is not None
    parameters = [a.arg for a in function.args.args]
    if scoring.receiver not in parameters:
        return None
    position = parameters.index(scoring.receiver)
    for statement in ordered:
        for node in ast.walk(statement.node):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == function.name
                and len(node.args) > position
            ):
                argument = node.args[position]
                if isinstance(argument, ast.Name) and argument.id in fitted:
                    return argument.id
    return None


def _alias_of(
    name: str | None, before: Statement, ordered: list[Statement], fitted: set[str]
) -> str | None:
    """`rf` when `name` was last bound as `name = rf` or `name = rf.best_estimator_`."""
    binding = _last_binding(name, before, ordered) if name else None
    if binding is None or not isinstance(binding.node, ast.Assign):
        return None
    value = binding.node.value
    if isinstance(value, ast.Attribute) and value.attr == "best_estimator_":
        value = value.value
    if isinstance(value, ast.Name) and value.id in fitted:
        return value.id
    return None


def _last_binding(
    name: str | None, before: Statement, ordered: list[Statement]
) -> Statement | None:
    limit = _position(ordered, before)
    binders = [s for s in ordered[:limit] if name in s.binds]
    return binders[-1] if binders else None


def _position(ordered: list[Statement], statement: Statement) -> int:
    return next(i for i, s in enumerate(ordered) if s is statement)


def _refuse(cell: int, line: int | None, reason: str, kind: FindingKind) -> NoReturn:
    raise NotConvertible([Blocker(cell, line, reason, kind.value)])
