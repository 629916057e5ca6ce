"""Notebook tools: read .ipynb files, analyse their data flow, find the traps (`check`)."""

from shipml.errors import NotebookRunUnavailable, UnreadableNotebook
from shipml.notebooks.analysis import CellFlow, CellSyntaxError, analyse_cell, analyse_notebook
from shipml.notebooks.blockers import NotConvertible
from shipml.notebooks.cells import Cell, Notebook, read_notebook
from shipml.notebooks.check import check_notebook, sorted_findings
from shipml.notebooks.conversion_report import conversion_summary
from shipml.notebooks.convert import OutputUnusable, convert_notebook
from shipml.notebooks.definitions import DefinitionFlow
from shipml.notebooks.events import NameEvent, StarImport
from shipml.notebooks.findings import Finding, FindingKind, NotebookReport, RunSummary
from shipml.notebooks.ipython_syntax import IPythonLine, PythonSource, to_python
from shipml.notebooks.render import render_report
from shipml.notebooks.run import run_notebook
from shipml.notebooks.sections import CellGroup, cell_name, group_cells, step_tag
from shipml.notebooks.trace import Use, trace_uses

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
    "NotConvertible",
    "Notebook",
    "NotebookReport",
    "NotebookRunUnavailable",
    "OutputUnusable",
    "PythonSource",
    "RunSummary",
    "StarImport",
    "UnreadableNotebook",
    "Use",
    "analyse_cell",
    "analyse_notebook",
    "cell_name",
    "check_notebook",
    "conversion_summary",
    "convert_notebook",
    "group_cells",
    "read_notebook",
    "render_report",
    "run_notebook",
    "sorted_findings",
    "step_tag",
    "to_python",
    "trace_uses",
]
