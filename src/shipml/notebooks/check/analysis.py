"""Data flow of a notebook: which global names each code cell reads, binds and changes.

This is the reusable part of `shipml notebook check` (and of the converter): one `CellFlow`
per code cell, built from the cell's Python (IPython syntax taken out first).
"""

from __future__ import annotations

import ast
import symtable
from collections.abc import Mapping
from dataclasses import dataclass, field

from shipml.notebooks.check.cells import Cell, Notebook
from shipml.notebooks.check.definitions import DefinitionFlow
from shipml.notebooks.check.events import (
    Action,
    BindingKind,
    NameEvent,
    StarImport,
    walk_cell,
)
from shipml.notebooks.check.ipython_syntax import IPythonLine, to_python


@dataclass(frozen=True)
class CellSyntaxError:
    """Why a cell's code is not Python, and at which line of the cell."""

    line: int
    message: str


@dataclass(frozen=True)
class CellFlow:
    """What one code cell does to the notebook's global names, in the order it does it."""

    cell: int
    """The cell's 1-based position in the notebook (markdown cells counted)."""
    code: str
    """The cell's source as plain Python (IPython lines replaced, same line numbers)."""
    events: tuple[NameEvent, ...] = ()
    definitions: Mapping[str, DefinitionFlow] = field(default_factory=dict)
    """Functions and classes the cell defines, by name."""
    imports: Mapping[str, str] = field(default_factory=dict)
    """Names bound by import statements, with what they import (`pd` -> `pandas`)."""
    star_imports: tuple[StarImport, ...] = ()
    bindings: Mapping[str, frozenset[BindingKind]] = field(default_factory=dict)
    """How each name the cell binds gets its value (import, function, class, literal, value)."""
    ipython: tuple[IPythonLine, ...] = ()
    syntax_error: CellSyntaxError | None = None
    tree: ast.Module | None = field(default=None, compare=False, repr=False)
    """The parsed code (of the lines before a syntax error, when there is one)."""

    @property
    def reads(self) -> frozenset[str]:
        """Names the cell needs from before it runs (read, changed or deleted before it binds
        them); builtins included - `trace_uses` tells where each one's value comes from."""
        seen: set[str] = set()
        needed: set[str] = set()
        for event in self.events:
            if event.name not in seen and event.action in ("read", "mutate", "delete"):
                needed.add(event.name)
            seen.add(event.name)
        return frozenset(needed)

    @property
    def writes(self) -> frozenset[str]:
        """Names the cell binds (assignment, import, def, class, loop or `with` target, ...)."""
        return self._names("write")

    @property
    def mutations(self) -> frozenset[str]:
        """Names whose object the cell changes in place (`df["a"] = ...`, `lst.append(x)`)."""
        return self._names("mutate")

    @property
    def deletes(self) -> frozenset[str]:
        """Names the cell removes with `del`."""
        return self._names("delete")

    @property
    def functions_defined(self) -> frozenset[str]:
        """Names of the functions the cell defines."""
        return frozenset(n for n, d in self.definitions.items() if d.kind == "function")

    @property
    def classes_defined(self) -> frozenset[str]:
        """Names of the classes the cell defines."""
        return frozenset(n for n, d in self.definitions.items() if d.kind == "class")

    def first_line(self, name: str, *actions: Action) -> int | None:
        """The first line where `name` is involved in one of `actions` (any, when none given)."""
        for event in self.events:
            if event.name == name and (not actions or event.action in actions):
                return event.line
        return None

    def _names(self, action: Action) -> frozenset[str]:
        return frozenset(event.name for event in self.events if event.action == action)


def analyse_cell(cell: Cell) -> CellFlow:
    """The data flow of one code cell."""
    python = to_python(cell.source)
    parsed, error = _parse(python.code)
    if parsed is None:
        return CellFlow(cell.number, python.code, ipython=python.ipython, syntax_error=error)
    tree, table = parsed
    found = walk_cell(tree, table)
    return CellFlow(
        cell=cell.number,
        code=python.code,
        events=tuple(found.events),
        definitions=found.definitions,
        imports=found.imports,
        star_imports=tuple(found.star_imports),
        bindings={name: frozenset(kinds) for name, kinds in found.bindings.items()},
        ipython=python.ipython,
        syntax_error=error,
        tree=tree,
    )


def analyse_notebook(notebook: Notebook) -> tuple[CellFlow, ...]:
    """The data flow of every code cell, top to bottom."""
    return tuple(analyse_cell(cell) for cell in notebook.code_cells)


_Parsed = tuple[ast.Module, symtable.SymbolTable]


def _parse(code: str) -> tuple[_Parsed | None, CellSyntaxError | None]:
    """Tree and symbol table of `code`; on an error, those of the lines before it, and the error."""
    try:
        return _compiled(code), None
    except SyntaxError as error:
        problem = CellSyntaxError(line=error.lineno or 1, message=error.msg)
    except (ValueError, RecursionError, MemoryError) as error:  # NUL byte, absurd nesting
        return None, CellSyntaxError(line=1, message=str(error) or type(error).__name__)
    before = "\n".join(code.split("\n")[: problem.line - 1])
    try:
        return _compiled(before), problem
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, problem


def _compiled(code: str) -> _Parsed:
    """Parse and compile `code` as a notebook cell (top-level `await` allowed, as in IPython)."""
    tree = ast.parse(code)
    compile(tree, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    return tree, symtable.symtable(code, "<cell>", "exec")
