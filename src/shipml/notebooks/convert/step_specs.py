"""`train` and `predict` as specs: the notebook's model built and fitted on the prepared rows,
and the notebook's own scoring of them."""

from __future__ import annotations

import ast
import json

import numpy as np
import pandas as pd

from shipml.notebooks.check.plan import Plan
from shipml.notebooks.check.statements import free_names
from shipml.notebooks.convert.adaptations import Change
from shipml.notebooks.convert.designer import INDEX_NAME, X_NAME, Y_NAME, Designer
from shipml.notebooks.convert.instrument import (
    innermost_statement,
    prediction_naming,
    scoring_expression,
    with_call_replaced,
)
from shipml.notebooks.convert.project_spec import PredictSpec, TrainSpec, TransformSpec
from shipml.notebooks.convert.rewrite import Edit, replace, source_of


def train_spec(d: Designer, input_contract: str, renames: dict[str, str]) -> TrainSpec:
    plan = d.plan
    lines = [
        "learned = Learned(LABEL)",
        f"{X_NAME}, {Y_NAME}, _ = prepare(rows, learned)",
    ]
    for statement in plan.model_code:
        if statement is plan.fit.statement:
            text = source_of(statement.code, statement.node)
            tree = ast.parse(text)
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
            original = [n for n in ast.walk(statement.node) if isinstance(n, ast.Call)]
            call = calls[[id(c) for c in original].index(id(plan.fit.call))]
            x, y = _x_and_y_nodes(call)
            lines.append(replace(text, [Edit(x, X_NAME), Edit(y, Y_NAME)]))
        else:
            lines.append(source_of(statement.code, statement.node))
    return TrainSpec(
        cells=tuple(sorted({s.cell for s in [*plan.in_model, *plan.model_code]})),
        input_contract=input_contract,
        parameter="rows",
        lines=lines,
        model=plan.model,
    )


def predict_spec(
    d: Designer,
    raw: pd.DataFrame,
    label: str,
    ids: list[str],
    transforms: list[TransformSpec],
    renames: dict[str, str],
    raw_contract: str,
) -> tuple[pd.DataFrame, str, PredictSpec]:
    plan = d.plan
    scoring = plan.scoring
    reference = d.captured.reference
    if reference is None:
        d.block(
            scoring.cell,
            None,
            f"the notebook's predictions with `{plan.model}` cannot be matched with rows of "
            "its data (score rows of the train/test split's test part, or rows of the data "
            "frame, keeping their index)",
        )
        d.stop_if_blocked()
    assert reference is not None
    expected_values = np.asarray(reference["expected"])
    if expected_values.ndim != 1:
        d.block(
            scoring.cell,
            scoring.call.lineno + scoring.statement.line - 1,
            f"the scores have shape {expected_values.shape}: keep one score per row "
            "(`[:, 1]`: the probability of the positive class)",
        )
        d.stop_if_blocked()
    naming = prediction_naming(plan, label)
    score_name, column = naming.score, naming.column
    expression = with_call_replaced(plan, f"model.estimator.{scoring.method}({X_NAME})")
    unknown = free_names(expression) - {"model", X_NAME} - plan.module.names
    if unknown:
        d.block(
            scoring.cell,
            scoring.statement.line,
            f"the scoring here also reads {', '.join(f'`{n}`' for n in sorted(unknown))}, "
            "which a predict step (given the prepared rows and the model) does not have",
        )
    d.stop_if_blocked()
    if scoring_expression(plan) is not scoring.call and _positional(plan):
        d.changes.append(
            Change(
                scoring.cell,
                scoring.statement.line,
                "rows picked by position from the scores (`[:10]`, `.head()`) taken "
                "out: predict scores every row it gets",
                "rows_picked",
            )
        )
    labels = reference["labels"]
    expected = pd.DataFrame({c: raw[c].loc[labels].to_numpy() for c in ids})
    expected[column] = expected_values
    columns = {c: f"rows.loc[{INDEX_NAME}, {json.dumps(renames.get(c, c))}]" for c in ids}
    columns[column] = naming.expression
    prediction = d.unique("Prediction")
    spec = PredictSpec(
        cell=scoring.cell,
        parameter="rows",
        input_contract=transforms[-1].output_contract if transforms else raw_contract,
        output_contract=prediction,
        scoring=f"{score_name} = {expression}",
        columns=columns,
        method=scoring.method,
    )
    return expected, column, spec


def _x_and_y_nodes(call: ast.Call) -> tuple[ast.expr, ast.expr]:
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    x = call.args[0] if call.args else keywords["X"]
    y = call.args[1] if len(call.args) > 1 else keywords["y"]
    return x, y


def _positional(plan: Plan) -> bool:
    statement = innermost_statement(plan.scoring.statement.node, plan.scoring.call)
    value = getattr(statement, "value", None)
    return value is not None and value is not scoring_expression(plan)
