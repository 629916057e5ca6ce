"""What a `def` or `class` reads and changes in the notebook's global namespace.

Python resolves the free names of a function body when the function is called, not when it
is defined; `symtable` gives the exact scoping (parameters, locals, closures, comprehensions,
`global` declarations), and the syntax tree gives the line of each name.
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

DefinitionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef

# Methods that change their object in place (list, dict, set, DataFrame.pop/update, ...).
IN_PLACE_METHODS = frozenset(
    {"append", "extend", "insert", "remove", "pop", "popitem", "clear", "update", "sort",
     "reverse", "setdefault"}
)  # fmt: skip


@dataclass(frozen=True)
class DefinitionFlow:
    """A function or class defined in a cell, and the global names it depends on."""

    name: str
    kind: Literal["function", "class"]
    line: int
    reads: Mapping[str, int] = field(default_factory=dict)
    """Global names read when it is called (for a class: by its methods), with their line."""
    rebinds: Mapping[str, int] = field(default_factory=dict)
    """Global names it assigns after declaring them `global`."""
    mutates: Mapping[str, int] = field(default_factory=dict)
    """Global names whose object it changes in place (`df["a"] = ...`, `results.append(x)`)."""
    reads_at_definition: Mapping[str, int] = field(default_factory=dict)
    """Global names a class body reads while the class statement runs."""


def describe_definition(node: DefinitionNode, cell_table: symtable.SymbolTable) -> DefinitionFlow:
    """The global reads and changes of a top-level `def` or `class` statement of a cell.

    `cell_table` is the symbol table of the whole cell, which holds one for `node`.
    """
    table = _table_of(node, cell_table)
    kind: Literal["function", "class"] = "class" if isinstance(node, ast.ClassDef) else "function"
    if kind == "class":
        at_definition = _referenced_globals(table)
        deferred = set().union(*(_globals_within(child) for child in table.get_children()))
    else:
        at_definition, deferred = set(), _globals_within(table)
    declared = _declared_global_assignments(table)
    changed = _changed_in_place(node, at_definition | deferred) - declared
    return DefinitionFlow(
        name=node.name,
        kind=kind,
        line=node.lineno,
        reads=_first_lines(node, deferred),
        rebinds=_first_lines(node, declared, any_context=True),
        mutates=_first_lines(node, changed),
        reads_at_definition=_first_lines(node, at_definition),
    )


def mutated_root(target: ast.expr) -> ast.Name | None:
    """The name under `df["a"]`, `obj.x.y` or `d[k][j]`, if the chain starts at a plain name."""
    node = target
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node if isinstance(node, ast.Name) and node is not target else None


def in_place_call_root(call: ast.Call) -> ast.Name | None:
    """The name changed by `lst.append(x)` or `df.fillna(0, inplace=True)`, if any."""
    if not isinstance(call.func, ast.Attribute):
        return None
    in_place = call.func.attr in IN_PLACE_METHODS or any(
        keyword.arg == "inplace"
        and isinstance(keyword.value, ast.Constant)
        and keyword.value.value is True
        for keyword in call.keywords
    )
    return mutated_root(call.func) if in_place else None


def _table_of(node: DefinitionNode, cell_table: symtable.SymbolTable) -> symtable.SymbolTable:
    for child in cell_table.get_children():
        if child.get_name() == node.name and child.get_lineno() == node.lineno:
            return child
    raise LookupError(f"no symbol table for {node.name!r} at line {node.lineno}")


def _referenced_globals(table: symtable.SymbolTable) -> set[str]:
    return {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}


def _globals_within(table: symtable.SymbolTable) -> set[str]:
    names = _referenced_globals(table)
    for child in table.get_children():
        names |= _globals_within(child)
    return names


def _declared_global_assignments(table: symtable.SymbolTable) -> set[str]:
    symbols = table.get_symbols()
    names = {s.get_name() for s in symbols if s.is_declared_global() and s.is_assigned()}
    for child in table.get_children():
        names |= _declared_global_assignments(child)
    return names


def _changed_in_place(node: DefinitionNode, global_names: set[str]) -> set[str]:
    return {root.id for root in _mutation_roots(node) if root.id in global_names}


def _mutation_roots(node: ast.AST) -> Iterator[ast.Name]:
    for child in ast.walk(node):
        targets: list[ast.expr] = []
        if isinstance(child, ast.Assign | ast.Delete):
            targets = list(child.targets)
        elif isinstance(child, ast.AugAssign | ast.AnnAssign):
            targets = [child.target]
        elif isinstance(child, ast.Call) and (root := in_place_call_root(child)) is not None:
            yield root
        for target in _flatten(targets):
            if (root := mutated_root(target)) is not None:
                yield root


def _flatten(targets: list[ast.expr]) -> Iterator[ast.expr]:
    for target in targets:
        if isinstance(target, ast.Tuple | ast.List):
            yield from _flatten(list(target.elts))
        elif isinstance(target, ast.Starred):
            yield from _flatten([target.value])
        else:
            yield target


def _first_lines(node: ast.AST, names: set[str], any_context: bool = False) -> dict[str, int]:
    """Each of `names` with the first line where it is read (or, with any_context, used)."""
    lines: dict[str, int] = {}
    for child in ast.walk(node):
        if (
            isinstance(child, ast.Name)
            and child.id in names
            and (any_context or isinstance(child.ctx, ast.Load))
        ):
            lines[child.id] = min(lines.get(child.id, child.lineno), child.lineno)
    for name in names - lines.keys():  # only bound via `global`: point at the definition
        lines[name] = getattr(node, "lineno", 1)
    return dict(sorted(lines.items(), key=lambda item: (item[1], item[0])))
