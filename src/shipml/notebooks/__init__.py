"""Notebook tools: read .ipynb files, analyse their data flow, find the traps (`check`)."""

from shipml.notebooks.analysis import CellFlow, CellSyntaxError, analyse_cell, analyse_notebook
from shipml.notebooks.cells import Cell, Notebook, read_notebook
from shipml.notebooks.check import check_notebook
from shipml.notebooks.definitions import DefinitionFlow
from shipml.notebooks.errors import NotebookRunUnavailable, UnreadableNotebook
from shipml.notebooks.events import NameEvent, StarImport
from shipml.notebooks.findings import Finding, FindingKind, NotebookReport, RunSummary
from shipml.notebooks.ipython_syntax import IPythonLine, PythonSource, to_python
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
    "Notebook",
    "NotebookReport",
    "NotebookRunUnavailable",
    "PythonSource",
    "RunSummary",
    "StarImport",
    "UnreadableNotebook",
    "Use",
    "analyse_cell",
    "analyse_notebook",
    "cell_name",
    "check_notebook",
    "group_cells",
    "read_notebook",
    "step_tag",
    "to_python",
    "trace_uses",
]
