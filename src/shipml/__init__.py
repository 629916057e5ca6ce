"""shipml: from notebook to production ML pipeline.

What a user's code and an orchestrator import:

- authoring: `step`, `Pipeline`, `Table`, and the contracts' `validate`, `ValidationReport`,
  `ContractViolation`, `read_table`;
- running: `Project` (a loaded project), `train`, `run_window` (the one batch-window
  function every orchestrator calls) and `Window`;
- `ShipmlError`, the root of every error shipml raises.

Names are imported on first use, so that `import shipml` (and the CLI) starts fast.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipml.contracts import Table, ValidationReport, read_table, validate
    from shipml.errors import ContractViolation, ShipmlError
    from shipml.pipeline import Pipeline, step
    from shipml.project import Project, run_window, train
    from shipml.windows import Window

try:
    __version__ = version("shipml")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

_HOMES = {
    "ContractViolation": "shipml.errors",
    "Pipeline": "shipml.pipeline",
    "Project": "shipml.project",
    "ShipmlError": "shipml.errors",
    "Table": "shipml.contracts",
    "ValidationReport": "shipml.contracts",
    "Window": "shipml.windows",
    "read_table": "shipml.contracts",
    "run_window": "shipml.project",
    "step": "shipml.pipeline",
    "train": "shipml.project",
    "validate": "shipml.contracts",
}

__all__ = [
    "ContractViolation",
    "Pipeline",
    "Project",
    "ShipmlError",
    "Table",
    "ValidationReport",
    "Window",
    "__version__",
    "read_table",
    "run_window",
    "step",
    "train",
    "validate",
]


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module 'shipml' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazily imported ones included."""
    return sorted({*globals(), *__all__})
