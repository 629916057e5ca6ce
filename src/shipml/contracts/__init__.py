"""The boundary: Pydantic models compiled into columnar checks over pandas frames."""

from shipml.contracts.baseline import Baseline, ColumnBaseline
from shipml.contracts.dates import DateFormat, parse_datetimes
from shipml.contracts.errors import ContractViolation, UnusableInput
from shipml.contracts.report import Diagnosis, Example, RuleFailure, ValidationReport
from shipml.contracts.table import Table, contract_of
from shipml.contracts.validate import REASONS_COLUMN, Policy, ValidationResult, validate

__all__ = [
    "REASONS_COLUMN",
    "Baseline",
    "ColumnBaseline",
    "ContractViolation",
    "DateFormat",
    "Diagnosis",
    "Example",
    "Policy",
    "RuleFailure",
    "Table",
    "UnusableInput",
    "ValidationReport",
    "ValidationResult",
    "contract_of",
    "parse_datetimes",
    "validate",
]
