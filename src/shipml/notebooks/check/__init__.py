"""`shipml notebook check`: read a notebook, follow its names from cell to cell, find its traps.

The analysis here (cells, sections, each cell's data flow, where each name comes from) is
also what `convert` works from, so both speak of the same cells and findings.
"""

from shipml.notebooks.check.analysis import (
    CellFlow,
    CellSyntaxError,
    analyse_cell,
    analyse_notebook,
)
from shipml.notebooks.check.cells import Cell, Notebook, read_notebook
from shipml.notebooks.check.checks import check_notebook, sorted_findings
from shipml.notebooks.check.definitions import DefinitionFlow
from shipml.notebooks.check.events import NameEvent, StarImport
from shipml.notebooks.check.findings import Finding, FindingKind, NotebookReport, RunSummary
from shipml.notebooks.check.ipython_syntax import IPythonLine, PythonSource, to_python
from shipml.notebooks.check.render import render_report
from shipml.notebooks.check.run import run_notebook
from shipml.notebooks.check.sections import CellGroup, cell_name, group_cells, step_tag
from shipml.notebooks.check.trace import Use, trace_uses

__all__ = [
    "Cell",
    "CellFlow",
    "CellGroup",
    "CellSyntaxError",
    "DefinitionFlow",
    "Finding",
    "FindingKind",
    "IPythonLine",
    "NameEvent",
    "Notebook",
    "NotebookReport",
    "PythonSource",
    "RunSummary",
    "StarImport",
    "Use",
    "analyse_cell",
    "analyse_notebook",
    "cell_name",
    "check_notebook",
    "group_cells",
    "read_notebook",
    "render_report",
    "run_notebook",
    "sorted_findings",
    "step_tag",
    "to_python",
    "trace_uses",
]
