"""The notebook's code as the capture runs it, and what the run must bring back.

The run is the notebook's own (same statements, same order), except that each learning place of
the preparation goes through `learned` (which, while fitting, only computes and keeps): so the
run both reproduces the notebook and records what its preparation learned, place by place.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shipml.notebooks.check.analysis import CellFlow
from shipml.notebooks.check.plan import Plan
from shipml.notebooks.check.roles import dict_frame_columns
from shipml.notebooks.check.statements import Statement, calls_in, free_names
from shipml.notebooks.convert.adaptations import keeping_row_index
from shipml.notebooks.convert.frames import snake_case
from shipml.notebooks.convert.project_spec import CLASSES_MODULE
from shipml.notebooks.convert.rewrite import Edit, Snippet, replace, source_of
from shipml.notebooks.convert.site_code import rewritten
from shipml.notebooks.convert.templating import render


@dataclass(frozen=True)
class Where:
    """A statement's place: its cell and its position among the cell's statements."""

    cell: int
    position: int


def where(plan: Plan, statement: Statement) -> Where:
    """The cell and position of `statement`."""
    in_cell = [s for s in plan.statements if s.cell == statement.cell]
    return Where(statement.cell, next(i for i, s in enumerate(in_cell) if s is statement))


def learning_text(plan: Plan, statement: Statement) -> str:
    """The statement's source with its learning places going through `learned`."""
    sites = plan.sites.get(id(statement), [])
    if not sites:
        return statement.source
    text = statement.source
    return rewritten(text, ast.parse(text), sites, ast.parse(text).body[0])


def capture_request(plan: Plan) -> dict[str, Any]:
    """The plan the capture worker runs (see `_capture_worker`)."""
    snapshots: list[dict[str, Any]] = []

    def save(when: str, statement: Statement, names: list[str]) -> None:
        place = where(plan, statement)
        snapshots.append(
            {"when": when, "cell": place.cell, "statement": place.position, "names": names}
        )

    ingest = plan.source.ingest[-1]
    save("after", ingest, list(plan.source.names))
    for position in plan.transform_groups:
        statements = [s for s in plan.in_group(position) if id(s) not in plan.label_only]
        frames = sorted(
            {n for s in statements for n in s.reads | s.binds | s.changes} & plan.data_names
        )
        save("before", statements[0], frames)
        save("after", statements[-1], frames)
    in_model = plan.in_model
    if in_model:
        save("before", in_model[0], sorted(plan.data_names))
    for statement in plan.prep:
        if plan.label_uses.get(id(statement)) == "transforms":
            save("after", statement, sorted(statement.binds | statement.changes))
    split_key = None
    if plan.split is not None:
        place = where(plan, plan.split.statement)
        split_key = f"{place.cell}:{place.position}"
        names = sorted(
            {n.id for a in plan.split.arrays for n in ast.walk(a) if isinstance(n, ast.Name)}
        )
        save("before", plan.split.statement, names)
    fit = where(plan, plan.fit.statement)
    text = plan.fit.statement.code
    scoring = plan.scoring
    naming = prediction_naming(plan, plan.label)
    return {
        "cells": [
            {"number": flow.cell, "code": _cell_code(plan, flow.cell, flow.code)}
            for flow in plan.flows
        ],
        "classes_module": CLASSES_MODULE,
        "learned": {"source": render("learned.py.tmpl"), "label": plan.label},
        "snapshots": snapshots,
        "split_key": split_key,
        "reference_statements": [
            [place.cell, place.position]
            for place in (where(plan, s) for s in reference_statements(plan))
        ],
        "ingest": _ingest(plan),
        "fit": {
            "cell": fit.cell,
            "statement": fit.position,
            "x": ast.get_source_segment(text, plan.fit.x),
            "y": ast.get_source_segment(text, plan.fit.y),
        },
        "scoring": {
            "cell": scoring.cell,
            "model": plan.model,
            "method": scoring.method,
            "post": scoring_post(plan),
            "score": naming.score,
            "column": naming.expression,
        },
    }


def reference_statements(plan: Plan) -> list[Statement]:
    """Statements whose scoring calls score rows of the training data (not another file's)."""
    source = plan.source.statement
    ours: set[str] = set(plan.source.names)
    others: set[str] = set()
    eligible = []
    for statement in plan.statements:
        if statement is source or statement in plan.source.ingest:
            continue
        reads_data = any(_reads_a_file(c, plan.imports) for c in calls_in(statement.node))
        if reads_data or statement.reads & others:
            others |= statement.binds | statement.changes
        elif statement.reads & ours:
            ours |= statement.binds | statement.changes
            if any(s.statement is statement for s in plan.scorings):
                eligible.append(statement)
        elif statement.reads & plan.module.names and any(
            s.statement is statement for s in plan.scorings
        ):
            eligible.append(statement)
    return eligible


def _reads_a_file(call: ast.Call, imports: dict[str, str]) -> bool:
    from shipml.notebooks.check.roles import dataset_loader, pandas_reader

    return bool(pandas_reader(call, imports) or dataset_loader(call, imports))


def plain_request(flows: Sequence[CellFlow]) -> dict[str, Any]:
    """A plan that only runs the cells (to tell whether the notebook runs at all)."""
    return {
        "cells": [{"number": f.cell, "code": f.code} for f in flows],
        "classes_module": CLASSES_MODULE,
        "snapshots": [],
    }


@dataclass(frozen=True)
class Naming:
    """What the scores are called in `predict`, the column they fill, and the expression that
    fills it (`estimates.round(1)` when the notebook's scored frame says so)."""

    score: str
    column: str
    expression: str


def prediction_naming(plan: Plan, label: str | None) -> Naming:
    """How the notebook names its predictions (the scored frame's column, the variable)."""
    score, column = _score_names(plan, label or "prediction")
    expression = score
    literal = _literal_columns(plan)
    value = literal.get(column)
    if value is not None:
        text = ast.unparse(value)
        if free_names(text) <= {score} | plan.module.names:
            expression = text
    return Naming(score, column, expression)


def _literal_columns(plan: Plan) -> dict[str, ast.expr]:
    scoring = plan.scoring
    literal = dict_frame_columns(scoring.function or scoring.statement.node)
    if not literal:
        literal = {
            k: v
            for s in plan.statements
            if s.cell == scoring.cell
            for k, v in dict_frame_columns(s.node).items()
        }
    return literal


def _score_names(plan: Plan, label: str) -> tuple[str, str]:
    """The name the scores get in `predict`, and the column they fill in its output."""
    scoring = plan.scoring
    statement = innermost_statement(scoring.statement.node, scoring.call)
    literal = _literal_columns(plan)
    name: str | None = None
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target = statement.targets[0]
        if isinstance(target, ast.Name):
            name = target.id
        elif isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
            column = str(target.slice.value)
            return snake_case(column) if snake_case(column) != column else "predictions", column
    if name is not None:
        for column, value in literal.items():
            if isinstance(value, ast.Name) and value.id == name:
                return name, column
            if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(value)):
                return name, column
        return name, name
    default = f"{label}_probability" if scoring.method == "predict_proba" else label
    return "predictions", default


def scoring_post(plan: Plan) -> str:
    """The notebook's last scoring expression around the model's call, the call's result as
    `__scores__` (`np.expm1(__scores__)`, `__scores__[:, 1]`), rows taken by position left out."""
    return with_call_replaced(plan, "__scores__")


def with_call_replaced(plan: Plan, replacement: str) -> str:
    """The scoring expression's source with the model's call replaced by `replacement`."""
    expression = scoring_expression(plan)
    text = source_of(plan.scoring.statement.code, expression)
    order = [id(c) for c in calls_in(expression)].index(id(plan.scoring.call))
    call = list(calls_in(ast.parse(text)))[order]
    return replace(text, [Edit(call, replacement)])


ELEMENTWISE_METHODS = frozenset({"round", "astype", "clip", "ravel", "flatten", "squeeze"})
ELEMENTWISE_FUNCTIONS = frozenset(
    {
        "expm1",
        "exp",
        "round",
        "rint",
        "clip",
        "floor",
        "ceil",
        "abs",
        "exp2",
        "power",
        "square",
        "sqrt",
        "ravel",
        "squeeze",
        "asarray",
        "array",
        "where",
    }
)


def scoring_expression(plan: Plan) -> ast.expr:
    """The expression that turns the model's call into the notebook's predictions: the call
    with what is applied to each score around it (`[:, 1]`, `np.expm1(...)`, `.round(1)`,
    `> 0.5`), not what summarises them (`accuracy_score(...)`, `print(...)`) nor rows picked
    by position (`[:10]`, `.head()`)."""
    call = plan.scoring.call
    statement = innermost_statement(plan.scoring.statement.node, call)
    parents = {c: n for n in ast.walk(statement) for c in ast.iter_child_nodes(n)}
    node: ast.expr = call
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.Subscript) and parent.value is node:
            if isinstance(parent.slice, ast.Slice):
                node = parent  # rows by position: skipped below
                continue
            node = parent
        elif (
            isinstance(parent, ast.Attribute)
            and parent.value is node
            and parent.attr in ELEMENTWISE_METHODS
            and isinstance(parents.get(parent), ast.Call)
        ):
            node = parents[parent]  # type: ignore[assignment]  # ast parents are nodes
        elif (
            isinstance(parent, ast.Call)
            and isinstance(parent.func, ast.Attribute)
            and parent.func.attr in ELEMENTWISE_FUNCTIONS
            and isinstance(parent.func.value, ast.Name)
            and plan.imports.get(parent.func.value.id) == "numpy"
            and node in parent.args
        ) or isinstance(parent, ast.Compare | ast.BinOp | ast.UnaryOp):
            node = parent
        else:
            break
    return _without_row_picks(node, call)


def innermost_statement(top: ast.stmt, node: ast.AST) -> ast.stmt:
    """The smallest statement within `top` (itself included) that holds `node`."""
    holding = [
        s for s in ast.walk(top) if isinstance(s, ast.stmt) and any(n is node for n in ast.walk(s))
    ]
    return min(holding, key=lambda s: sum(1 for _ in ast.walk(s)))


def _without_row_picks(expression: ast.expr, call: ast.Call) -> ast.expr:
    node = expression
    while node is not call:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            node = node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("head", "tail")
        ):
            node = node.func.value
        else:
            return node
    return node


def _ingest(plan: Plan) -> dict[str, Any]:
    last = where(plan, plan.source.ingest[-1])
    return {
        "cell": last.cell,
        "statement": last.position,
        "names": list(plan.source.names),
        "kind": plan.source.kind,
    }


def _cell_code(plan: Plan, cell: int, code: str) -> str:
    """The cell as the capture runs it: learning places through `learned`, and rows keeping
    the index they were read with (`.reset_index(drop=True)` taken out, as in the steps) in
    the preparation and the functions it calls, so its rows can be found in the data."""
    edits = []
    for statement in _index_keeping(plan):
        if statement.cell != cell:
            continue
        text = learning_text(plan, statement) if statement in plan.prep else statement.source
        kept, _, _ = keeping_row_index(Snippet(statement.cell, statement.line, text))
        if kept.text != statement.source:
            edits.append(Edit(statement.node, kept.text))
    return replace(code, edits) if edits else code


def _index_keeping(plan: Plan) -> list[Statement]:
    used = plan.module.closure(n for s in plan.prep for n in s.reads)
    helpers = [s for n, s in plan.module.definitions.items() if n in used]
    return [*plan.prep, *{id(s): s for s in helpers}.values()]
