"""Keep only the statements a step's results depend on, and find the module code they use.

A section of a notebook mixes the work a pipeline needs with looking at it (`df.head()`,
plots, prints, metrics). Following the names backwards from a step's outputs keeps the
former; everything else is listed as not carried over, never silently lost.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from shipml.notebooks.check.statements import Statement
from shipml.notebooks.check.trace import ALWAYS_DEFINED


@dataclass(frozen=True)
class Slice:
    """The statements kept, and the names they need from before the first of them."""

    kept: list[Statement]
    needs: frozenset[str]


def slice_statements(
    statements: Sequence[Statement],
    outputs: Iterable[str],
    reads_for: Callable[[Statement, set[str]], frozenset[str]] | None = None,
) -> Slice:
    """The code statements that `outputs` depend on, in order, and what they need.

    `reads_for(statement, needed)` may narrow what a statement reads to what the names it
    is kept for need (a train/test split: the features' part needs only the features).
    """
    needed = set(outputs)
    kept: list[Statement] = []
    for statement in reversed(statements):
        if statement.kind != "code" or not (statement.binds | statement.changes) & needed:
            continue
        kept.append(statement)
        reads = reads_for(statement, needed) if reads_for else statement.reads
        needed = (needed - statement.binds) | reads
    return Slice(kept[::-1], frozenset(needed - ALWAYS_DEFINED))


@dataclass(frozen=True)
class ModuleCode:
    """The notebook's imports, constants and functions, by the names they bind."""

    imports: dict[str, Statement]
    constants: dict[str, Statement]
    definitions: dict[str, Statement]

    @classmethod
    def of(cls, statements: Iterable[Statement]) -> ModuleCode:
        """Index the module-level statements of a notebook (the last binding of a name wins)."""
        imports: dict[str, Statement] = {}
        constants: dict[str, Statement] = {}
        definitions: dict[str, Statement] = {}
        for statement in statements:
            target = {"import": imports, "constant": constants, "definition": definitions}.get(
                statement.kind
            )
            if target is not None:
                for name in statement.binds:
                    target[name] = statement
        return cls(imports, constants, definitions)

    @property
    def names(self) -> frozenset[str]:
        """Every name bound at module level."""
        return frozenset(self.imports) | frozenset(self.constants) | frozenset(self.definitions)

    def closure(self, names: Iterable[str]) -> set[str]:
        """`names` that are module code, with the module names those functions use in turn."""
        found: set[str] = set()
        pending = [name for name in names if name in self.names]
        while pending:
            name = pending.pop()
            if name in found:
                continue
            found.add(name)
            statement = self.definitions.get(name)
            if statement is not None:
                pending += [n for n in _used_by(statement) if n in self.names]
        return found


def _used_by(statement: Statement) -> set[str]:
    """Global names a function or class uses: in its body, decorators, defaults, bases."""
    used = set(statement.reads)
    if statement.definition is not None:
        used |= set(statement.definition.reads) | set(statement.definition.reads_at_definition)
    return used


def import_source(statement: Statement, used: set[str]) -> str | None:
    """The import statement reduced to the names in `used` (None when it binds none of them)."""
    node = statement.node
    if isinstance(node, ast.Import):
        aliases = [a for a in node.names if (a.asname or a.name.split(".")[0]) in used]
        if not aliases:
            return None
        return "import " + ", ".join(_alias(a) for a in aliases)
    if isinstance(node, ast.ImportFrom):
        aliases = [a for a in node.names if (a.asname or a.name) in used]
        if not aliases:
            return None
        module = "." * node.level + (node.module or "")
        return f"from {module} import " + ", ".join(_alias(a) for a in aliases)
    return None


def _alias(alias: ast.alias) -> str:
    return f"{alias.name} as {alias.asname}" if alias.asname else alias.name
