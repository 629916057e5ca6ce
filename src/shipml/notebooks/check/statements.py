"""A code cell as top-level statements: what each one binds, changes and reads, and what it is.

The converter moves statements around (imports and helpers to the module, the rest into step
functions) and keeps only those a step's result depends on; this is the unit it works with.
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from shipml.notebooks.check.analysis import CellFlow
from shipml.notebooks.check.definitions import DefinitionFlow
from shipml.notebooks.check.events import walk_cell
from shipml.notebooks.check.names import NameIndex
from shipml.notebooks.check.trace import ALWAYS_DEFINED

StatementKind = Literal["import", "definition", "constant", "code"]

# Methods that do not change the object they are called on, when a statement only calls them.
READ_ONLY_METHODS = frozenset(
    {"head", "tail", "describe", "info", "sample", "value_counts", "nunique", "unique", "count",
     "sum", "mean", "median", "std", "var", "min", "max", "corr", "cov", "isna", "isnull",
     "notna", "notnull", "plot", "hist", "boxplot", "memory_usage", "get_params", "score",
     "predict", "predict_proba", "transform", "to_string", "equals", "duplicated", "any", "all"}
)  # fmt: skip
# Methods that change the object they are called on (an estimator learns from the data).
FITTING_METHODS = frozenset({"fit", "partial_fit", "fit_transform", "fit_predict"})


@dataclass(frozen=True)
class Statement:
    """One top-level statement of a code cell, with its effect on the notebook's names."""

    cell: int
    node: ast.stmt
    code: str
    """The whole cell's code, which `node`'s positions refer to."""
    kind: StatementKind
    reads: frozenset[str]
    """Names the statement needs from before it runs."""
    binds: frozenset[str]
    changes: frozenset[str]
    """Names whose object the statement (probably) changes in place."""
    definition: DefinitionFlow | None = None

    @property
    def line(self) -> int:
        """The statement's first line in its cell."""
        return self.node.lineno

    @property
    def source(self) -> str:
        """The statement's source text."""
        return ast.get_source_segment(self.code, self.node, padded=False) or ""

    @property
    def first_line_text(self) -> str:
        """The first line of its source, to name the statement in a report."""
        return self.source.strip().splitlines()[0] if self.source.strip() else ""


def statements_of(flow: CellFlow, index: NameIndex) -> list[Statement]:
    """The top-level statements of a parsed cell (none when the cell did not parse)."""
    if flow.tree is None or flow.syntax_error is not None:
        return []
    table = symtable.symtable(flow.code, "<cell>", "exec")
    return [_statement(flow, node, table, index) for node in flow.tree.body]


def calls_in(node: ast.AST) -> Iterator[ast.Call]:
    """Every call in `node`, outermost first."""
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            yield child


def method_name(call: ast.Call) -> str | None:
    """`fit` for `model.fit(...)`; None for a call of a plain name."""
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def receiver_root(call: ast.Call) -> str | None:
    """The name at the root of a method call's receiver: `df` in `df["a"].fillna(0)`.

    None when the receiver is the result of another call (a new object, no name's).
    """
    if not isinstance(call.func, ast.Attribute):
        return None
    node: ast.expr = call.func.value
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _statement(
    flow: CellFlow, node: ast.stmt, table: symtable.SymbolTable, index: NameIndex
) -> Statement:
    found = walk_cell(ast.Module(body=[node], type_ignores=[]), table)
    seen: set[str] = set()
    reads: set[str] = set()
    binds: set[str] = set()
    changes: set[str] = set()
    for event in found.events:
        if event.action in ("read", "mutate", "delete") and event.name not in seen:
            reads.add(event.name)
        if event.action == "write":
            binds.add(event.name)
            seen.add(event.name)
        elif event.action in ("mutate", "delete"):
            changes.add(event.name)
    changes |= _called_changes(node, index)
    definition = next(iter(found.definitions.values()), None)
    return Statement(
        cell=flow.cell,
        node=node,
        code=flow.code,
        kind=_kind(node, index),
        reads=frozenset(reads),
        binds=frozenset(binds),
        changes=frozenset(changes),
        definition=definition,
    )


def _kind(node: ast.stmt, index: NameIndex) -> StatementKind:
    if isinstance(node, ast.Import | ast.ImportFrom):
        return "import"
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return "definition"
    if _is_constant(node, index):
        return "constant"
    return "code"


def _is_constant(node: ast.stmt, index: NameIndex) -> bool:
    """`NAME = <literal>`, bound once in the notebook and never changed in place."""
    if not (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    ):
        return False
    name = node.targets[0].id
    try:
        ast.literal_eval(node.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return len(index.bound_in.get(name, [])) == 1 and name not in index.changed_in_place


def _called_changes(node: ast.stmt, index: NameIndex) -> set[str]:
    """Receivers a statement changes through calls: fitted estimators, and for a statement
    that is only a method call, its receiver unless the method only reads (`df.head()`)."""
    changed = set()
    for call in calls_in(node):
        root = receiver_root(call)
        if root is not None and method_name(call) in FITTING_METHODS:
            changed.add(root)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        call = node.value
        root = receiver_root(call)
        method = method_name(call)
        direct = isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
        if (
            root is not None
            and direct  # `df.plot.scatter(...)`, `df["a"].describe()`: an accessor or a part
            and method not in READ_ONLY_METHODS
            and not index.is_module(root)
        ):
            changed.add(root)
    return changed


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
