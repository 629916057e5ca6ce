"""How a statement of the preparation uses the label column, before the model's input is made.

Rows to score have no label. A statement of the preparation may drop the label (fine: the drop
is told to ignore a missing column), transform it in place (done once, on the training data),
keep only some training rows by it (done while training only), or compute something from it:
the last would feed the label to the model, and is refused.
"""

from __future__ import annotations

import ast
from typing import Literal

LabelUse = Literal["none", "drops", "transforms", "filters", "computes"]
_DROPPING = frozenset({"drop", "pop"})


def label_use(statement: ast.stmt, label: str, frames: frozenset[str]) -> LabelUse:
    """What `statement` does with the column `label` of the frames named `frames`.

    Naming the label is not reading it (`[c for c in df.columns if c != "y"]` reads no label
    value); reading it is taking the column from a frame (`df["y"]`, `df.y`, `df[["a", "y"]]`).
    """
    if _transforms_label(statement, label):
        return "transforms"
    if _filters_rows(statement, label, frames):
        return "filters"
    if any(_reads_label(n, label, frames) for n in ast.walk(statement)):
        return "computes"
    if drop_calls(statement, label):
        return "drops"
    return "none"


def label_line(statement: ast.stmt, label: str) -> int:
    """The first line (of the statement's cell code) that names the label."""
    return min(
        (
            n.lineno
            for n in ast.walk(statement)
            if isinstance(n, ast.expr) and _names_label(n, label)
        ),
        default=statement.lineno,
    )


def ignoring_missing(call: ast.Call) -> bool:
    """True when a `.drop(...)` call already passes `errors="ignore"`."""
    return any(
        k.arg == "errors" and isinstance(k.value, ast.Constant) and k.value.value == "ignore"
        for k in call.keywords
    )


def drop_calls(statement: ast.stmt, label: str) -> list[ast.Call]:
    """The `.drop(...)` calls of `statement` that name the label."""
    return [
        call
        for call in _drop_calls(statement)
        if call.func.attr == "drop"  # type: ignore[attr-defined]  # an attribute call
        and any(_names_label(n, label) for n in ast.walk(call))
        and not any(isinstance(n, ast.Attribute) and n.attr == "index" for n in ast.walk(call))
    ]


def _reads_label(node: ast.AST, label: str, frames: frozenset[str]) -> bool:
    """`df["y"]`, `df.y`, `df[["a", "y"]]`, `df.loc[:, "y"]`, `df.pop("y")` for a frame `df`."""
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        if _root(node.value) not in frames:
            return False
        keys = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        for key in keys:
            options = key.elts if isinstance(key, ast.List | ast.Tuple) else [key]
            if any(isinstance(o, ast.Constant) and o.value == label for o in options):
                return True
        return False
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
        return node.attr == label and _root(node.value) in frames
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "pop"
        and _root(node.func.value) in frames
        and any(isinstance(a, ast.Constant) and a.value == label for a in node.args)
    )


def _names_label(node: ast.AST, label: str) -> bool:
    if isinstance(node, ast.Constant) and node.value == label:
        return True
    return isinstance(node, ast.Attribute) and node.attr == label and isinstance(node.ctx, ast.Load)


def _drop_calls(statement: ast.stmt) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(statement)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in _DROPPING
    ]


def _transforms_label(statement: ast.stmt, label: str) -> bool:
    """`df["y"] = df["y"].map(...)`: the label column rebound from itself."""
    if not isinstance(statement, ast.Assign | ast.AugAssign) or isinstance(
        statement, ast.AnnAssign
    ):
        return False
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    return len(targets) == 1 and _is_label_subscript(targets[0], label)


def _filters_rows(statement: ast.stmt, label: str, frames: frozenset[str]) -> bool:
    """`df = df[mask]`, `df = df.loc[mask]`, `df = df.drop(df[mask].index)`,
    `df.drop(df[mask].index, inplace=True)`, `df = df.dropna(subset=[...])`, where the label is
    read in the mask (or is in the subset)."""
    value: ast.expr | None = None
    frame: str | None = None
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    ):
        frame, value = statement.targets[0].id, statement.value
    elif isinstance(statement, ast.Expr) and _inplace(statement.value):
        value = statement.value
        frame = _root(value.func.value) if isinstance(value, ast.Call) else None  # type: ignore[attr-defined]  # a method call
    if frame is None or frame not in frames or value is None:
        return False
    if isinstance(value, ast.Subscript) and _root(value.value) in frames:
        target = value.value
        if isinstance(target, ast.Attribute) and target.attr not in ("loc",):
            return False
        mask = value.slice
        if isinstance(mask, ast.Constant | ast.List) or (
            isinstance(mask, ast.Tuple) and not isinstance(value.value, ast.Attribute)
        ):
            return False  # `df["y"]`, `df[["a", "y"]]`: columns, not rows
        return any(_names_label(n, label) for n in ast.walk(mask))
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        if not isinstance(value.func.value, ast.Name) or value.func.value.id not in frames:
            return False
        method = value.func.attr
        if method == "drop":
            return any(
                isinstance(a, ast.Attribute) and a.attr == "index" for a in value.args
            ) and any(_names_label(n, label) for n in ast.walk(value))
        if method == "dropna":
            return any(
                k.arg == "subset" and any(_names_label(n, label) for n in ast.walk(k.value))
                for k in value.keywords
            )
    return False


def _inplace(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and any(
        k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in node.keywords
    )


def _is_label_subscript(node: ast.AST, label: str) -> bool:
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == label
    )


def _root(node: ast.AST) -> str | None:
    """`df` for `df`, `df["a"]`, `df.a`, `df.groupby("k")["a"]` (through method calls)."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None
