"""The predict step, made from the notebook's scoring: its call, and the frame it shows.

The scoring statement (`probabilities = classifier.predict_proba(featurize(cleaned))[:, 1]`)
is kept with the model as `model` and the rows as the step's own; the scored frame's columns
come from the notebook's `pd.DataFrame({...})` when they only use the scores, and identifier
columns come from the step's rows.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shipml.notebooks.check.trace import ALWAYS_DEFINED
from shipml.notebooks.convert.notebook_run import NotebookRun
from shipml.notebooks.convert.project_spec import FEATURE_COLUMNS, PredictSpec
from shipml.notebooks.convert.rewrite import Edit, replace, source_of
from shipml.notebooks.convert.roles import Scoring, dict_frame_columns
from shipml.notebooks.convert.statements import calls_in

DEFAULT_SCORE_NAME = "scores"


@dataclass(frozen=True)
class NotebookScores:
    """What the notebook's scoring produced: the scored rows it shows, and the model's input."""

    scoring: Scoring
    output: Any
    model_input: Any
    score_name: str


def notebook_scores(run: NotebookRun) -> NotebookScores:
    """The notebook's scored rows; a blocker when it never scores rows with the model."""
    scoring = run.sketch.scoring
    if scoring is None:
        run.block(
            run.sketch.fit.statement.cell,
            None,
            "no cell scores rows with the fitted model (`model.predict(...)` or "
            "`model.predict_proba(...)`): the predict step and its contract are made from "
            "the notebook's own scoring",
        )
        run.stop_if_blocked()
    assert scoring is not None
    calls = run.captured.calls.get(scoring.cell, [])
    if not calls:
        run.block(
            scoring.cell,
            scoring.call.lineno,
            f"`.{scoring.method}(...)` here did not run on the fitted model "
            f"`{run.sketch.fit.model}` when the notebook ran",
        )
        run.stop_if_blocked()
    recorded = calls[0]
    score_name = _score_name(scoring)
    return NotebookScores(
        scoring, _scored(run, recorded.output, score_name), recorded.rows, score_name
    )


def _scored(run: NotebookRun, recorded: Any, score_name: str) -> Any:
    """What the notebook shows of its scores: the frame the scoring cell displays, else the
    value its scoring statement binds (`p = model.predict_proba(X)[:, 1]`), else the call's."""
    scoring = run.sketch.scoring
    assert scoring is not None
    shown = run.captured.displays.get(scoring.cell)
    if isinstance(shown, pd.DataFrame | pd.Series) and len(shown) == len(recorded):
        return shown
    if scoring.function is None and score_name != DEFAULT_SCORE_NAME:
        bound = run.value(score_name, run.sketch.group_position(scoring.cell))
        if isinstance(bound, pd.DataFrame | pd.Series | np.ndarray) and len(bound) == len(recorded):
            return bound
    return recorded


def predict_spec(
    run: NotebookRun,
    scores: NotebookScores,
    ids: list[str],
    input_contract: str,
    output_contract: str,
) -> PredictSpec:
    """The predict step: the notebook's scoring statement on the step's rows."""
    parameter = "features" if "features" not in run.module.names else "rows"
    statement = _scoring_statement(run, scores, parameter)
    columns = _output_columns(run, scores, ids, parameter)
    run.stop_if_blocked()
    return PredictSpec(
        cell=scores.scoring.cell,
        parameter=parameter,
        input_contract=input_contract,
        output_contract=output_contract,
        scoring=statement,
        columns=columns,
        method=scores.scoring.method,
    )


def free_names(text: str) -> set[str]:
    """Names `text` reads without binding them itself (builtins left out)."""
    tree = ast.parse(text)
    bound = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
            bound |= {a.arg for a in every}
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return read - bound - ALWAYS_DEFINED


def _score_name(scoring: Scoring) -> str:
    statement = scoring.statement
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        return statement.targets[0].id
    return DEFAULT_SCORE_NAME


def _scoring_statement(run: NotebookRun, scores: NotebookScores, parameter: str) -> str:
    """The scoring statement with the model as `model` and the rows as the step's."""
    scoring = scores.scoring
    assignment = scores.score_name != DEFAULT_SCORE_NAME
    node: ast.AST = scoring.statement if assignment else scoring.call
    text = source_of(scoring.code, node)
    order = list(calls_in(node)).index(scoring.call)
    call = list(calls_in(ast.parse(text)))[order]
    assert isinstance(call.func, ast.Attribute)
    edits = [Edit(call.func.value, "model")]
    if call.args:
        edits.append(Edit(call.args[0], f"{parameter}[{FEATURE_COLUMNS}]"))
    edited = replace(text, edits)
    if not assignment:
        edited = f"{scores.score_name} = {edited}"
    unknown = free_names(edited) - {"model", parameter, FEATURE_COLUMNS} - run.module.names
    if unknown:
        run.block(
            scoring.cell,
            scoring.statement.lineno,
            f"the scoring here also reads {', '.join(f'`{n}`' for n in sorted(unknown))}, "
            "which a predict step (given the transformed rows and the model) does not have",
        )
    return edited


def _output_columns(
    run: NotebookRun, scores: NotebookScores, ids: list[str], parameter: str
) -> dict[str, str]:
    """Each column of the notebook's scored frame, and the expression that fills it."""
    scoring, output, score = scores.scoring, scores.output, scores.score_name
    if isinstance(output, pd.Series):
        return {str(output.name) if output.name is not None else score: score}
    if not isinstance(output, pd.DataFrame):
        if np.ndim(output) != 1:
            run.block(
                scoring.cell,
                scoring.call.lineno,
                f"the scores have shape {np.shape(output)}: keep one score per row "
                "(`[:, 1]`: the probability of the positive class)",
            )
        return {score: score}
    literal = dict_frame_columns(scoring.function or ast.parse(scoring.code))
    allowed = {score} | run.module.names
    others = [c for c in output.columns if c not in ids]
    columns: dict[str, str] = {}
    for column in output.columns:
        expression = literal.get(column)
        text = source_of(scoring.code, expression) if expression is not None else None
        if column in ids:
            columns[column] = f"{parameter}[{json.dumps(column)}]"
        elif text is not None and free_names(text) <= allowed:
            columns[column] = text
        elif len(others) == 1:
            columns[column] = score
        else:
            run.block(
                scoring.cell,
                None,
                f"cannot tell how column {column!r} of the notebook's scored frame is "
                "computed from the model's scores",
            )
    return {str(k): v for k, v in columns.items()}
