"""The notebook's module-level code the steps use: imports, constants, functions and classes.

Functions and constants go to `steps.py`; classes go to `notebook_code.py` (with what they
need), where the pickles of the notebook's fitted objects find them. A function a transform
uses is adapted like the transform's own code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field

from shipml.errors import Blocker
from shipml.notebooks.check.plan import Plan
from shipml.notebooks.check.slicing import ModuleCode, import_source
from shipml.notebooks.check.statements import Statement, free_names
from shipml.notebooks.convert.adaptations import Change, keeping_row_index, without_label_filters
from shipml.notebooks.convert.rewrite import Snippet, source_of

RESERVED_STEP_NAMES = frozenset({"train", "predict", "prepare"})


@dataclass
class ModuleParts:
    """The module-level code of the generated project, split between its two modules."""

    imports: list[str] = field(default_factory=list)
    constants: list[Snippet] = field(default_factory=list)
    helpers: list[Snippet] = field(default_factory=list)
    classes: list[Snippet] = field(default_factory=list)
    class_imports: list[str] = field(default_factory=list)
    """Imports and constants `notebook_code.py` needs for its classes."""
    used: set[str] = field(default_factory=set)
    blockers: list[Blocker] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    """Changes made to functions the transforms use (as to the transforms' own code)."""


def module_parts(
    plan: Plan, code: Iterable[str], transform_code: Iterable[str] = (), label: str | None = None
) -> ModuleParts:
    """What the steps' `code` (and the transforms' `transform_code`) use of the notebook's
    module-level code, in notebook order; blockers for what they cannot use."""
    module = plan.module
    parts = ModuleParts()
    classes = {n for n, s in module.definitions.items() if isinstance(s.node, ast.ClassDef)}
    transform_names = {n for text in transform_code for n in free_names(text)}
    by_transforms = _closure(module, transform_names, classes)
    used = by_transforms | _closure(module, {n for text in code for n in free_names(text)}, classes)
    for name in sorted(used & RESERVED_STEP_NAMES):
        statement = module.definitions.get(name) or module.constants.get(name)
        parts.blockers.append(
            Blocker(
                statement.cell if statement else plan.fit.statement.cell,
                statement.line if statement else None,
                f"`{name}` is used by the steps and clashes with the generated `{name}`: "
                "rename it in the notebook",
            )
        )
    definitions = _in_order({id(s): s for n, s in module.definitions.items() if n in used})
    for statement in definitions:
        if isinstance(statement.node, ast.ClassDef):
            parts.classes.append(_snippet(statement))
            continue
        snippet = _snippet(statement)
        if statement.binds & by_transforms and label is not None:
            snippet, changes, blockers = without_label_filters(snippet, label)
            snippet, more_changes, more = keeping_row_index(snippet)
            parts.blockers += blockers + more
            parts.changes += changes + more_changes
        parts.helpers.append(snippet)
    for_classes = module.closure(used & classes)
    parts.constants = [
        _snippet(s) for s in _in_order({id(s): s for n, s in module.constants.items() if n in used})
    ]
    imports = _in_order({id(s): s for s in module.imports.values()})
    parts.imports = [line for s in imports if (line := import_source(s, used)) is not None]
    parts.class_imports = [
        line for s in imports if (line := import_source(s, for_classes)) is not None
    ] + [
        _snippet(s).text
        for s in _in_order({id(s): s for n, s in module.constants.items() if n in for_classes})
    ]
    parts.used = used | for_classes
    return parts


def _closure(module: ModuleCode, names: Iterable[str], classes: set[str]) -> set[str]:
    """Module names used, following functions into what they use but not into classes (a
    class moves to notebook_code.py with what it uses)."""
    found: set[str] = set()
    pending = [n for n in names if n in module.names]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        statement = module.definitions.get(name)
        if statement is not None and name not in classes:
            pending += [n for n in module.closure([name]) if n != name]
    return found


def _read_by_steps(code: Iterable[str], transform_code: Iterable[str]) -> set[str]:
    return {n for text in [*code, *transform_code] for n in free_names(text)}


def _snippet(statement: Statement) -> Snippet:
    return Snippet(statement.cell, statement.line, source_of(statement.code, statement.node))


def _in_order(statements: dict[int, Statement]) -> list[Statement]:
    return sorted(statements.values(), key=lambda s: (s.cell, s.line))
