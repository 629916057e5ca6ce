"""shipml: from notebook to production ML pipeline."""

from importlib.metadata import PackageNotFoundError, version

from shipml.contracts import ContractViolation, Table, ValidationReport, validate
from shipml.pipeline import Pipeline, step

try:
    __version__ = version("shipml")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

__all__ = [
    "ContractViolation",
    "Pipeline",
    "Table",
    "ValidationReport",
    "__version__",
    "step",
    "validate",
]
