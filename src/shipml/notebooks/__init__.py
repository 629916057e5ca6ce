"""Notebook tools: `check` finds a notebook's traps, `convert` turns it into a shipml project.

Only the entry points, their reports and their errors are public here; `shipml.notebooks.check`
also offers the analysis both commands share. Names are imported on first use, so that the
CLI can read `shipml.notebooks.defaults` without loading pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipml.errors import (
        Blocker,
        NotConvertible,
        NotebookRunUnavailable,
        OutputUnusable,
        UnreadableNotebook,
    )
    from shipml.notebooks.check import (
        Finding,
        FindingKind,
        Notebook,
        NotebookReport,
        RunSummary,
        check_notebook,
        read_notebook,
        run_notebook,
    )
    from shipml.notebooks.convert import Conversion, Verification, convert_notebook
    from shipml.notebooks.convert.conversion_report import conversion_summary
    from shipml.notebooks.defaults import CHECK_CELL_TIMEOUT, CONVERT_TIMEOUT, DEFAULT_KERNEL

_WHERE = {
    "Finding": "check",
    "FindingKind": "check",
    "Notebook": "check",
    "NotebookReport": "check",
    "RunSummary": "check",
    "check_notebook": "check",
    "read_notebook": "check",
    "run_notebook": "check",
    "Conversion": "convert",
    "Verification": "convert",
    "convert_notebook": "convert",
    "Blocker": "shipml.errors",
    "NotConvertible": "shipml.errors",
    "NotebookRunUnavailable": "shipml.errors",
    "OutputUnusable": "shipml.errors",
    "UnreadableNotebook": "shipml.errors",
    "CHECK_CELL_TIMEOUT": "defaults",
    "CONVERT_TIMEOUT": "defaults",
    "DEFAULT_KERNEL": "defaults",
    "conversion_summary": "convert.conversion_report",
}

__all__ = [
    "CHECK_CELL_TIMEOUT",
    "CONVERT_TIMEOUT",
    "DEFAULT_KERNEL",
    "Blocker",
    "Conversion",
    "Finding",
    "FindingKind",
    "NotConvertible",
    "Notebook",
    "NotebookReport",
    "NotebookRunUnavailable",
    "OutputUnusable",
    "RunSummary",
    "UnreadableNotebook",
    "Verification",
    "check_notebook",
    "conversion_summary",
    "convert_notebook",
    "read_notebook",
    "run_notebook",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_module(_WHERE[name])), name)
    globals()[name] = value
    return value


def _module(where: str) -> str:
    return where if where.startswith("shipml.") else f"shipml.notebooks.{where}"
