"""`check_notebook`: every static trap of a notebook, ordered by cell and line."""

from __future__ import annotations

from shipml.notebooks.check.analysis import analyse_notebook
from shipml.notebooks.check.cells import Notebook
from shipml.notebooks.check.execution_rules import execution_findings
from shipml.notebooks.check.findings import Finding, FindingKind, FindingMaker, NotebookReport
from shipml.notebooks.check.ml_rules import ml_findings
from shipml.notebooks.check.name_rules import name_findings
from shipml.notebooks.check.source_rules import source_findings

_KIND_ORDER = {kind: position for position, kind in enumerate(FindingKind)}


def check_notebook(notebook: Notebook) -> NotebookReport:
    """The traps found in `notebook`'s source and saved execution counts (nothing is run)."""
    make = FindingMaker(notebook)
    flows = analyse_notebook(notebook)
    ml, notes = ml_findings(notebook, flows, make)
    findings = [
        *execution_findings(notebook, make),
        *source_findings(flows, make),
        *name_findings(flows, make),
        *ml,
    ]
    return NotebookReport(
        notebook=str(notebook.path),
        code_cells=len(notebook.code_cells),
        findings=sorted_findings(grouped(findings)),
        notes=sorted_findings(notes),
    )


# A cell that re-runs (an import cell moved down, a cell defining many variables run again)
# gives one finding per name it touches; from this many on, they are one finding with the names.
GROUPED_FROM = 3
_GROUPED_KINDS = {
    FindingKind.REDEFINED_AFTER_USE: "rebinds or changes {names} after cells above read them: "
    "re-running those cells now gives them other values than a top-to-bottom run does",
    FindingKind.USED_BEFORE_DEFINITION: "{names} are read here before a cell binds them (a "
    "cell below does): a top-to-bottom run fails with NameError",
    FindingKind.UNDEFINED_NAME: "{names} are read but no cell defines them (cells that did "
    "may have been deleted or edited while their values lived on in the kernel)",
    FindingKind.USED_AFTER_DELETE: "{names} are read here after a `del` above",
}


def grouped(findings: list[Finding]) -> list[Finding]:
    """Findings of one kind at one cell, when there are GROUPED_FROM or more of them, as one
    finding listing the names (one re-run cell must not flood the report)."""
    by_key: dict[tuple[int, FindingKind], list[Finding]] = {}
    for finding in findings:
        if finding.kind in _GROUPED_KINDS:
            by_key.setdefault((finding.cell, finding.kind), []).append(finding)
    result = [f for f in findings if (f.cell, f.kind) not in by_key]
    for (_, kind), group in by_key.items():
        if len(group) < GROUPED_FROM:
            result += group
            continue
        names = sorted({n for f in group for n in f.names})
        shown = ", ".join(f"`{n}`" for n in names)
        first = min(group, key=lambda f: f.line or 0)
        message = f"{len(names)} names: " + _GROUPED_KINDS[kind].format(names=shown)
        result.append(first.model_copy(update={"names": names, "message": message}))
    return result


def sorted_findings(findings: list[Finding]) -> list[Finding]:
    """Findings top to bottom: by cell, then line, then kind."""
    return sorted(findings, key=lambda f: (f.cell, f.line or 0, _KIND_ORDER[f.kind], f.names))
