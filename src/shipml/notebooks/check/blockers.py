"""Which of `shipml notebook check`'s findings stop a conversion, and where they must not be.

A notebook whose cells do not parse cannot run: that stops everything. The other traps
matter only in the code a step keeps (the preparation, the model, the functions and classes
they use): a plot reading an undefined name, or a shell command, is left out with its cell.
Each refusal carries the finding's name, so `check` says the same thing about the same cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from shipml.errors import Blocker
from shipml.notebooks.check.analysis import CellFlow
from shipml.notebooks.check.findings import Finding, FindingKind
from shipml.notebooks.check.statements import Statement

# Findings that make kept code impossible to run as a step: names it cannot have, functions
# whose result depends on globals, paths that exist on one machine, names of a star import.
BLOCKING_IN_KEPT_CODE = frozenset(
    {FindingKind.UNDEFINED_NAME, FindingKind.USED_BEFORE_DEFINITION,
     FindingKind.USED_AFTER_DELETE, FindingKind.IPYTHON_NAME, FindingKind.FUNCTION_READS_GLOBAL,
     FindingKind.FUNCTION_MUTATES_GLOBAL, FindingKind.ABSOLUTE_PATH, FindingKind.STAR_IMPORT}
)  # fmt: skip


def syntax_blockers(flows: Sequence[CellFlow]) -> list[Blocker]:
    """Cells that are not Python: the notebook cannot run top to bottom."""
    return [
        Blocker(
            flow.cell,
            flow.syntax_error.line,
            f"the cell is not valid Python: {flow.syntax_error.message}",
            FindingKind.SYNTAX_ERROR.value,
        )
        for flow in flows
        if flow.syntax_error is not None
    ]


def kept_code_blockers(findings: Iterable[Finding], kept: Iterable[Statement]) -> list[Blocker]:
    """The blocking findings that sit in a kept statement (by cell and line)."""
    kept = list(kept)
    read = {n for s in kept for n in s.reads}
    spans: dict[int, list[tuple[int, int]]] = {}
    for statement in kept:
        end = getattr(statement.node, "end_lineno", None) or statement.line
        spans.setdefault(statement.cell, []).append((statement.line, end))
    found = []
    for finding in findings:
        if finding.kind not in BLOCKING_IN_KEPT_CODE:
            continue
        lines = spans.get(finding.cell, [])
        star_used = finding.kind == FindingKind.STAR_IMPORT and set(finding.names) & read
        if star_used or any(start <= (finding.line or start) <= end for start, end in lines):
            found.append(Blocker(finding.cell, finding.line, finding.message, finding.kind.value))
    return found
