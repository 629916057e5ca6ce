"""The few changes notebook code needs to run as shipml transforms, made mechanically.

shipml sets the label aside before the transforms run (rows to score have no label) and
joins it back by the rows' index before `train`. So, in a transform's code:
- label-presence filters (`df["y"].notna()` in a `&` mask or as the mask, `dropna(subset=["y"])`)
  are taken out, and the training data file keeps only labelled rows instead;
- `.reset_index(drop=True)` is taken out, so each row keeps the index its label follows.
Any other use of the label, or other renumbering of rows, is refused: it is reported by cell
and line, never guessed at. Every change made is reported for review.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shipml.errors import Blocker
from shipml.notebooks.convert.rewrite import (
    Edit,
    Snippet,
    expression_text,
    outermost,
    replace,
    source_of,
)

_MAX_ROUNDS = 20
_PRESENT = frozenset({"notna", "notnull"})
_MISSING = frozenset({"isna", "isnull"})

Finder = Callable[[str, ast.Module], list[tuple[ast.AST, str]]]


@dataclass(frozen=True)
class Change:
    """A change the converter made to the notebook's code, to be reviewed."""

    cell: int
    line: int
    description: str
    kind: str = ""
    """The name `shipml notebook check` gives it (a FindingKind value)."""

    def __str__(self) -> str:
        named = f" ({self.kind})" if self.kind else ""
        return f"cell {self.cell} line {self.line}: {self.description}{named}"


def without_label_filters(
    snippet: Snippet, label: str
) -> tuple[Snippet, list[Change], list[Blocker]]:
    """`snippet` without its label-presence filters; other reads of the label are blockers."""
    edited, changes = _rewrite(
        snippet,
        lambda text, tree: _label_filter_edits(text, tree, label),
        f"label-presence filter on `{label}` taken out: transforms never see the label; "
        "data/train.csv holds only labelled rows",
        "label_filter",
    )
    blockers = [
        Blocker(
            snippet.cell,
            edited.cell_line(node.lineno),
            f"reads the label column {label!r}: transforms never see the label (rows to score "
            "have none); only label-presence filters are taken out automatically",
        )
        for node in ast.walk(edited.tree())
        if isinstance(node, ast.Constant) and node.value == label
    ]
    return edited, changes, blockers


def keeping_row_index(snippet: Snippet) -> tuple[Snippet, list[Change], list[Blocker]]:
    """`snippet` without `.reset_index(drop=True)`; other renumbering of rows is a blocker."""
    edited, changes = _rewrite(
        snippet,
        _reset_index_edits,
        "`.reset_index(drop=True)` taken out: shipml joins each row's label by its index",
        "rows_renumbered",
    )
    blockers = []
    for node in ast.walk(edited.tree()):
        if isinstance(node, ast.Call) and _renumbers(node):
            blockers.append(
                Blocker(
                    snippet.cell,
                    edited.cell_line(node.lineno),
                    "renumbers the rows (`reset_index()` / `ignore_index=True`): shipml joins "
                    "each row's label by its index, so a transform must keep it",
                )
            )
    return edited, changes, blockers


def with_names_replaced(snippet: Snippet, replacements: Mapping[str, str]) -> Snippet:
    """`snippet` with the names in `replacements` (read, not bound) replaced by expressions."""
    tree = snippet.tree()
    edits = [
        Edit(node, replacements[node.id])
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in replacements
    ]
    return snippet.with_text(replace(snippet.text, edits))


def _rewrite(
    snippet: Snippet, find: Finder, description: str, kind: str = ""
) -> tuple[Snippet, list[Change]]:
    """Apply the outermost edits `find` proposes until it proposes none."""
    changes: list[Change] = []
    current = snippet
    for _ in range(_MAX_ROUNDS):
        found = find(current.text, current.tree())
        if not found:
            break
        chosen = outermost([node for node, _ in found])
        edits = sorted(
            (Edit(node, text) for node, text in found if node in chosen),
            key=lambda e: (getattr(e.node, "lineno", 1), getattr(e.node, "col_offset", 0)),
        )
        changes += [
            Change(snippet.cell, current.cell_line(getattr(e.node, "lineno", 1)), description, kind)
            for e in edits
        ]
        current = current.with_text(replace(current.text, edits))
    return current, changes


def _label_filter_edits(text: str, tree: ast.Module, label: str) -> list[tuple[ast.AST, str]]:
    found: list[tuple[ast.AST, str]] = []
    standalone = _standalone_expressions(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd):
            kept = node.left if _presence_test(node.right, label) else None
            kept = node.right if _presence_test(node.left, label) else kept
            if kept is not None:
                bare = node in standalone
                found.append((node, source_of(text, kept) if bare else expression_text(text, kept)))
        elif isinstance(node, ast.Subscript) and _presence_test(node.slice, label):
            found.append((node, expression_text(text, node.value)))
        elif isinstance(node, ast.Call) and _drops_unlabelled(node, label):
            assert isinstance(node.func, ast.Attribute)
            found.append((node, expression_text(text, node.func.value)))
    return found


def _standalone_expressions(tree: ast.Module) -> set[ast.AST]:
    """Expressions that need no parentheses whatever they are: a subscript's key, a call's
    argument, the value of an assignment or `return`."""
    found: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            found.add(node.slice)
        elif isinstance(node, ast.Call):
            found.update([*node.args, *(k.value for k in node.keywords)])
        elif isinstance(node, ast.Assign | ast.Return) and node.value is not None:
            found.add(node.value)
    return found


def _presence_test(node: ast.AST, label: str) -> bool:
    """`df[label].notna()`, `df[label].notnull()`, `~df[label].isna()`, `~df[label].isnull()`."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        return _label_method(node.operand, label, _MISSING)
    return _label_method(node, label, _PRESENT)


def _label_method(node: ast.AST, label: str, methods: frozenset[str]) -> bool:
    return (
        isinstance(node, ast.Call)
        and not node.args
        and not node.keywords
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in methods
        and _is_label_column(node.func.value, label)
    )


def _is_label_column(node: ast.AST, label: str) -> bool:
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == label
    )


def _drops_unlabelled(call: ast.Call, label: str) -> bool:
    """`df.dropna(subset=[label])`."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "dropna") or call.args:
        return False
    if [k.arg for k in call.keywords] != ["subset"]:
        return False
    subset = call.keywords[0].value
    return (
        isinstance(subset, ast.List | ast.Tuple)
        and len(subset.elts) == 1
        and isinstance(subset.elts[0], ast.Constant)
        and subset.elts[0].value == label
    )


def _reset_index_edits(text: str, tree: ast.Module) -> list[tuple[ast.AST, str]]:
    found: list[tuple[ast.AST, str]] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "reset_index"
            and not node.args
            and len(node.keywords) == 1
            and node.keywords[0].arg == "drop"
            and isinstance(node.keywords[0].value, ast.Constant)
            and node.keywords[0].value.value is True
        ):
            found.append((node, expression_text(text, node.func.value)))
    return found


def _renumbers(call: ast.Call) -> bool:
    if isinstance(call.func, ast.Attribute) and call.func.attr == "reset_index":
        return True
    return any(
        k.arg == "ignore_index" and not (isinstance(k.value, ast.Constant) and not k.value.value)
        for k in call.keywords
    )
