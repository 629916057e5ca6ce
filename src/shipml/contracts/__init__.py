"""The boundary: Pydantic models compiled into columnar checks over pandas frames."""

from shipml.contracts.baseline import Baseline, ColumnBaseline
from shipml.contracts.compat import incompatibilities
from shipml.contracts.dates import DateFormat, parse_datetimes
from shipml.contracts.infer import infer_contract, suggested_field_name
from shipml.contracts.loading import load_contract
from shipml.contracts.one_record import refused_record_report
from shipml.contracts.reading import (
    DEFAULT_MAX_CELL_CHARS,
    PARQUET_SUFFIXES,
    read_table,
    text_columns_of,
)
from shipml.contracts.report import MAX_EXAMPLES, Diagnosis, Example, RuleFailure, ValidationReport
from shipml.contracts.table import Table, contract_of
from shipml.contracts.validate import REASONS_COLUMN, Policy, ValidationResult, validate
from shipml.errors import ContractViolation, UnusableInput

__all__ = [
    "DEFAULT_MAX_CELL_CHARS",
    "MAX_EXAMPLES",
    "PARQUET_SUFFIXES",
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
    "incompatibilities",
    "infer_contract",
    "load_contract",
    "parse_datetimes",
    "read_table",
    "refused_record_report",
    "suggested_field_name",
    "text_columns_of",
    "validate",
]
