"""Traps read from the saved execution counts: order, cells not run, runs left untraced.

Jupyter saves, for each code cell, the count of its last execution in the kernel session.
A notebook run top to bottom after a restart has counts 1, 2, 3, ... down the page. When no
cell has a count (outputs cleared) there is nothing to judge and nothing is reported.
"""

from __future__ import annotations

from shipml.notebooks.check.cells import Cell, Notebook
from shipml.notebooks.check.findings import Finding, FindingKind, FindingMaker

_Executed = list[tuple[Cell, int]]


def execution_findings(notebook: Notebook, make: FindingMaker) -> list[Finding]:
    """Cells run out of order, cells never run, and executions no saved cell records."""
    executed = [
        (cell, cell.execution_count)
        for cell in notebook.code_cells
        if cell.execution_count is not None
    ]
    if not executed:
        return []
    return [
        *_not_executed(notebook, make),
        *_out_of_order(executed, make),
        *_gaps(executed, make),
    ]


def _not_executed(notebook: Notebook, make: FindingMaker) -> list[Finding]:
    return [
        make(
            FindingKind.NOT_EXECUTED,
            cell.number,
            "no execution count while other cells have one: it did not run in the session "
            "that saved the notebook (or its output was cleared)",
        )
        for cell in notebook.code_cells
        if cell.execution_count is None and not cell.is_blank
    ]


def _out_of_order(executed: _Executed, make: FindingMaker) -> list[Finding]:
    findings = []
    latest: tuple[Cell, int] | None = None  # the cell above with the highest count so far
    for cell, count in executed:
        if latest is not None and count <= latest[1]:
            findings.append(
                make(
                    FindingKind.OUT_OF_ORDER,
                    cell.number,
                    f"execution count [{count}] is not above the [{latest[1]}] of cell "
                    f"{latest[0].number} above it: the cells' last runs were not top to bottom",
                )
            )
        if latest is None or count > latest[1]:
            latest = (cell, count)
    return findings


def _gaps(executed: _Executed, make: FindingMaker) -> list[Finding]:
    first_with: dict[int, Cell] = {}
    for cell, count in executed:
        first_with.setdefault(count, cell)
    findings, previous = [], 0
    for count in sorted(first_with):
        missing = count - previous - 1
        if missing > 0:
            span = f"[{previous + 1}]" if missing == 1 else f"[{previous + 1}] to [{count - 1}]"
            runs = f"{missing} execution{'s' if missing > 1 else ''}"
            findings.append(
                make(
                    FindingKind.EXECUTION_GAP,
                    first_with[count].number,
                    f"no saved cell has execution count {span}, just before this cell's "
                    f"[{count}]: {runs} left no trace (a cell ran more than once, or a cell "
                    "was deleted or its output cleared)",
                )
            )
        previous = count
    return findings
