"""Walk a cell's module-level code in evaluation order, recording what it does to each name.

A read is recorded where the value is needed (the right side before the targets of an
assignment, the iterable before the loop variable). Comprehension variables and lambda
parameters are local to them; a lambda body counts as read where the lambda appears, since
notebooks mostly pass lambdas straight to `apply` or `sorted`. Function and class bodies are
described separately (see `definitions`): their reads happen when they are called.
"""

from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass, field
from typing import Literal

from shipml.notebooks.check.definitions import (
    DefinitionFlow,
    describe_definition,
    in_place_call_root,
    mutated_root,
)

Action = Literal["read", "write", "mutate", "delete"]
BindingKind = Literal["import", "function", "class", "literal", "value"]


@dataclass(frozen=True)
class NameEvent:
    """A name read, (re)bound, changed in place or deleted at a line of a cell."""

    name: str
    action: Action
    line: int


@dataclass(frozen=True)
class StarImport:
    """`from module import *` at a line of a cell."""

    module: str
    line: int


@dataclass
class CellEvents:
    """Everything the walk of one cell found."""

    events: list[NameEvent] = field(default_factory=list)
    definitions: dict[str, DefinitionFlow] = field(default_factory=dict)
    imports: dict[str, str] = field(default_factory=dict)
    star_imports: list[StarImport] = field(default_factory=list)
    bindings: dict[str, set[BindingKind]] = field(default_factory=dict)


def walk_cell(tree: ast.Module, table: symtable.SymbolTable) -> CellEvents:
    """The name events, definitions and imports of a parsed cell, in evaluation order.

    `table` is the cell's symbol table (`symtable.symtable(code, ...)`).
    """
    walker = _Walker(table)
    for statement in tree.body:
        walker.visit(statement)
    return walker.found


@dataclass
class _Scope:
    kind: Literal["lambda", "comprehension"]
    names: set[str] = field(default_factory=set)


class _Walker(ast.NodeVisitor):
    def __init__(self, table: symtable.SymbolTable) -> None:
        self.found = CellEvents()
        self._table = table
        self._scopes: list[_Scope] = []

    # -- recording ---------------------------------------------------------------------------

    def _record(self, name: str, action: Action, line: int) -> None:
        self.found.events.append(NameEvent(name, action, line))

    def _bind(self, name: str, line: int, kind: BindingKind) -> None:
        self._record(name, "write", line)
        self.found.bindings.setdefault(name, set()).add(kind)

    def _is_local(self, name: str) -> bool:
        return any(name in scope.names for scope in self._scopes)

    # -- names and targets -------------------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if not self._is_local(node.id):
                self._record(node.id, "read", node.lineno)
        elif isinstance(node.ctx, ast.Del):
            self._record(node.id, "delete", node.lineno)
        elif self._scopes:
            self._scopes[-1].names.add(node.id)
        else:
            self._bind(node.id, node.lineno, "value")

    def _assign_to(self, target: ast.expr, kind: BindingKind) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id, target.lineno, kind)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._assign_to(element, "value")
        elif isinstance(target, ast.Starred):
            self._assign_to(target.value, "value")
        else:
            self._change(target)

    def _change(self, target: ast.expr) -> None:
        """`df["a"] = ...`, `obj.x = ...`, `del d[k]`: read the parts, then mark the root."""
        node = target
        while isinstance(node, ast.Attribute | ast.Subscript):
            if isinstance(node, ast.Subscript):
                self.visit(node.slice)
            node = node.value
        root = mutated_root(target)
        if root is None:
            self.visit(node)
        elif not self._is_local(root.id):
            self._record(root.id, "read", root.lineno)
            self._record(root.id, "mutate", root.lineno)

    # -- statements --------------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        kind = _value_kind(node.value)
        for target in node.targets:
            self._assign_to(target, kind)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._record(node.target.id, "read", node.lineno)
            self._bind(node.target.id, node.lineno, "value")
        else:
            self._change(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.annotation)
        if node.value is not None:
            self._assign_to(node.target, _value_kind(node.value))
        elif not isinstance(node.target, ast.Name):
            self.visit(node.target)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self._record(target.id, "delete", target.lineno)
            else:
                self._change(target)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._assign_to(node.target, "value")
        for statement in [*node.body, *node.orelse]:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._assign_to(item.optional_vars, "value")
        for statement in node.body:
            self.visit(statement)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self._bind(node.name, node.lineno, "value")
        for statement in node.body:
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            name = alias.asname or alias.name.split(".")[0]
            self.found.imports[name] = alias.name if alias.asname else name
            self._bind(name, node.lineno, "import")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                self.found.star_imports.append(StarImport(module, node.lineno))
                continue
            name = alias.asname or alias.name
            separator = "." if node.module else ""
            self.found.imports[name] = f"{module}{separator}{alias.name}"
            self._bind(name, node.lineno, "import")

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for expression in [*node.decorator_list, *node.args.defaults]:
            self.visit(expression)
        for default in node.args.kw_defaults:
            if default is not None:
                self.visit(default)
        for annotation in _annotations(node):
            self.visit(annotation)
        self.found.definitions[node.name] = describe_definition(node, self._table)
        self._bind(node.name, node.lineno, "function")

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expression in [*node.decorator_list, *node.bases, *node.keywords]:
            self.visit(expression)
        definition = describe_definition(node, self._table)
        for name in definition.reads_at_definition:
            self._record(name, "read", node.lineno)
        self.found.definitions[node.name] = definition
        self._bind(node.name, node.lineno, "class")

    # -- expressions with their own scope ----------------------------------------------------

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        parameters = {argument.arg for argument in _all_arguments(node.args)}
        self._scopes.append(_Scope("lambda", parameters))
        self.visit(node.body)
        self._scopes.pop()

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self._comprehension(node.generators, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node.generators, [node.key, node.value])

    def _comprehension(self, generators: list[ast.comprehension], parts: list[ast.expr]) -> None:
        self.visit(generators[0].iter)  # evaluated in the enclosing scope
        self._scopes.append(_Scope("comprehension"))
        for position, generator in enumerate(generators):
            if position:
                self.visit(generator.iter)
            self.visit(generator.target)
            for condition in generator.ifs:
                self.visit(condition)
        for part in parts:
            self.visit(part)
        self._scopes.pop()

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        target = node.target.id
        lambdas = [scope for scope in self._scopes if scope.kind == "lambda"]
        if lambdas:  # `:=` binds in the nearest function scope, skipping comprehensions
            lambdas[-1].names.add(target)
        else:
            self._bind(target, node.lineno, "value")

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        root = in_place_call_root(node)
        if root is not None and not self._is_local(root.id):
            self._record(root.id, "mutate", root.lineno)

    # -- match statements --------------------------------------------------------------------

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name is not None:
            self._bind(node.name, node.lineno, "value")

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name is not None:
            self._bind(node.name, node.lineno, "value")

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        for part in [*node.keys, *node.patterns]:
            self.visit(part)
        if node.rest is not None:
            self._bind(node.rest, node.lineno, "value")


def _value_kind(value: ast.expr) -> BindingKind:
    if isinstance(value, ast.Lambda):
        return "function"
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return "value"
    return "literal"


def _all_arguments(arguments: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, *extra]


def _annotations(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    annotations = [a.annotation for a in _all_arguments(node.args) if a.annotation is not None]
    return [*annotations, *([node.returns] if node.returns is not None else [])]
