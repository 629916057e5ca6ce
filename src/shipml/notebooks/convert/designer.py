"""The state a conversion's design is built in: the plan, the run, the reasons to stop, the
changes made, and a few helpers every part of the design uses."""

from __future__ import annotations

import ast
from typing import Any

from shipml.errors import Blocker, NotConvertible
from shipml.notebooks.check.plan import GENERATED_NAMES, Plan
from shipml.notebooks.check.statements import Statement
from shipml.notebooks.convert.adaptations import Change
from shipml.notebooks.convert.capture import Captured
from shipml.notebooks.convert.instrument import where
from shipml.notebooks.convert.rewrite import Snippet, source_of

X_NAME, Y_NAME, INDEX_NAME = "X_prepared", "y_prepared", "rows_kept"


class Designer:
    """Builds the design step by step, collecting every reason to stop and every change."""

    def __init__(self, plan: Plan, captured: Captured, name: str) -> None:
        self.plan = plan
        self.captured = captured
        self.name = name
        self.blockers: list[Blocker] = []
        self.changes: list[Change] = []
        self.taken: set[str] = set(plan.module.names) | GENERATED_NAMES

    def block(
        self, cell: int, line: int | None, reason: str, kind: str = "not_convertible"
    ) -> None:
        """Note a reason the notebook cannot be converted."""
        self.blockers.append(Blocker(cell, line, reason, kind))

    def stop_if_blocked(self) -> None:
        """Raise NotConvertible with every reason noted so far."""
        if self.blockers:
            raise NotConvertible(sorted(self.blockers, key=lambda b: (b.cell, b.line or 0)))

    def value(self, when: str, statement: Statement, name: str) -> Any:
        """What `name` held just before or after `statement` ran in the notebook."""
        place = where(self.plan, statement)
        return self.captured.value(when, place.cell, place.position, name)

    def unique(self, name: str) -> str:
        """`name`, or `name2`, `name3`... : a class name no other name of the project has."""
        candidate, number = name, 2
        while candidate in self.taken:
            candidate, number = f"{name}{number}", number + 1
        self.taken.add(candidate)
        return candidate


def snippet_of(statement: Statement) -> Snippet:
    """A statement's source as a snippet."""
    return Snippet(statement.cell, statement.line, source_of(statement.code, statement.node))


def source_text(statement: Statement, node: ast.AST) -> str:
    """The source of `node`, a node of `statement`'s cell."""
    return source_of(statement.code, node)
