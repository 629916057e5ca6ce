"""`check_notebook`: every static trap of a notebook, ordered by cell and line."""

from __future__ import annotations

from shipml.notebooks.check.analysis import analyse_notebook
from shipml.notebooks.check.cells import Notebook
from shipml.notebooks.check.execution_rules import execution_findings
from shipml.notebooks.check.findings import Finding, FindingKind, FindingMaker, NotebookReport
from shipml.notebooks.check.name_rules import name_findings
from shipml.notebooks.check.source_rules import source_findings

_KIND_ORDER = {kind: position for position, kind in enumerate(FindingKind)}


def check_notebook(notebook: Notebook) -> NotebookReport:
    """The traps found in `notebook`'s source and saved execution counts (nothing is run)."""
    make = FindingMaker(notebook)
    flows = analyse_notebook(notebook)
    findings = [
        *execution_findings(notebook, make),
        *source_findings(flows, make),
        *name_findings(flows, make),
    ]
    return NotebookReport(
        notebook=str(notebook.path),
        code_cells=len(notebook.code_cells),
        findings=sorted_findings(findings),
    )


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    """Findings top to bottom: by cell, then line, then kind."""
    return sorted(findings, key=lambda f: (f.cell, f.line or 0, _KIND_ORDER[f.kind], f.names))
