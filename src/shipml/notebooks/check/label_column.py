"""The label column: followed back from the fit's `y` to the column of the data it comes from."""

from __future__ import annotations

import ast

from shipml.notebooks.check.roles import ModelFit
from shipml.notebooks.check.statements import Statement

_FRAME_ATTRIBUTES = frozenset(
    {
        "values",
        "index",
        "columns",
        "shape",
        "dtypes",
        "T",
        "loc",
        "iloc",
        "at",
        "iat",
        "str",
        "dt",
        "cat",
        "size",
        "ndim",
        "empty",
        "name",
        "array",
        "data",
        "target",
        "frame",
        "feature_names",
        "target_names",
    }
)


def label_column(
    y_statements: list[Statement], data_names: frozenset[str], fit: ModelFit
) -> str | None:
    """The label column: followed back from the fit's `y` to the column of a data frame it is
    taken from (through the split's parts, `y = df["target"]`, `df.pop("target")`, ...)."""
    for node in ast.walk(fit.y):
        column = _column_of(node, data_names)
        if column is not None:
            return column
    wanted = _free(fit.y)
    for statement in reversed(y_statements):
        if not statement.binds & wanted:
            continue
        value = statement.node.value if isinstance(statement.node, ast.Assign) else statement.node
        if isinstance(statement.node, ast.Assign) and isinstance(
            statement.node.targets[0], ast.Tuple
        ):
            value = _split_part(statement.node, wanted) or value
        for node in ast.walk(value):
            column = _column_of(node, data_names)
            if column is not None:
                return column
        wanted = (wanted - statement.binds) | (_free(value) & data_names)
    return None


def _split_part(node: ast.Assign, wanted: set[str]) -> ast.expr | None:
    """The array a split's part in `wanted` is cut from."""
    call = node.value
    target = node.targets[0]
    if not isinstance(call, ast.Call) or not isinstance(target, ast.Tuple):
        return None
    for position, element in enumerate(target.elts):
        if (
            isinstance(element, ast.Name)
            and element.id in wanted
            and position // 2 < len(call.args)
        ):
            return call.args[position // 2]
    return None


def _column_of(node: ast.AST, frames: frozenset[str]) -> str | None:
    if (
        isinstance(node, ast.Subscript)
        and _root_name(node.value) in frames
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "pop"
        and _root_name(node.func.value) in frames
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in frames
        and isinstance(node.ctx, ast.Load)
        and node.attr not in _FRAME_ATTRIBUTES
    ):
        return node.attr
    return None


def _free(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None
