"""The report of one record Pydantic refused, as `validate` writes it for its one-row frame.

A prediction request usually sends one record. When Pydantic refuses it, the caller gets the
report `validate(pd.DataFrame([record]), M)` writes; the engine's way to it (a frame, every
column checked, the report, the diagnoses) costs about a millisecond of pandas calls on one
row, ten times the cost of scoring a valid record in a batch. Pydantic's errors already
say which fields failed, so for the common case only those fields' columns are checked, by
the engine's own column check, and the rest of the report follows from the record:

- every value is a bool, an int within int64, a non-NaN float or a str that UTF-8 can
  encode (a null, a nested value or a lone surrogate has rules of its own: the engine
  decides);
- the contract checks columns one by one (no whole-row validation, no forbidden extras, no
  absent optional field whose default is validated);
- the frame is built only when `diagnose` may find something in it: a rename (a field
  absent and a column the contract does not know) or a date format (text in a date,
  datetime or str field, or in one with a declared format). Otherwise, on one row without
  nulls, it finds only that each absent required field is missing.

Anything else, and a record the column checks find valid after all, goes the engine's way.
`tests/contracts/test_one_record.py` compares both ways' reports on records of every kind.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from shipml.contracts._columns import check_column
from shipml.contracts._compile import Contract, compile_contract
from shipml.contracts._failures import Failures
from shipml.contracts._fields import FieldSpec
from shipml.contracts._pydantic import validate_items
from shipml.contracts._renames import _missing_diagnosis
from shipml.contracts.diagnose import diagnose
from shipml.contracts.report import MAX_EXAMPLES, Example, RuleFailure, ValidationReport
from shipml.contracts.validate import _json_safe, validate
from shipml.errors import ContractViolation

_DATED_KINDS = ("str", "date", "datetime")  # kinds whose text `diagnose` reads for dates
# Kinds with no fast path for a text column (`_columns._FAST_PATHS`): Pydantic decides.
_TEXT_TO_PYDANTIC = (None, "int", "float", "bool")
_SCALARS = (bool, int, float, str)
_INT64 = 2**63
_ROW = np.zeros(1, dtype=np.intp)  # the position of the one row


def refused_record_report(
    record: dict[str, Any], model: type[BaseModel], error: ValidationError
) -> ValidationReport | None:
    """What `validate` reports on the one-row frame of `record`, which `model` refused with
    `error`; None when `validate` accepts the frame (it reads records as a frame)."""
    contract = compile_contract(model)
    if _fits_the_quick_way(record, contract):
        report = _quick_report(record, contract, error)
        if report is not None:
            return report
    try:
        validate(pd.DataFrame([record]), model, policy="fail")
    except ContractViolation as violation:
        return violation.report
    return None


def _fits_the_quick_way(record: dict[str, Any], contract: Contract) -> bool:
    if contract.row_mode == "all" or contract.extra == "forbid":
        return False
    for name, value in record.items():
        kind = type(value)
        if not isinstance(name, str) or kind not in _SCALARS:
            return False
        if (kind is float and value != value) or (kind is int and not -_INT64 <= value < _INT64):
            return False  # NaN is a null; an int beyond int64 makes another dtype
        if kind is str and not _utf8(value):
            return False  # a lone surrogate: pandas cannot build the frame (the engine raises)
    return not any(f.column not in record and f.validate_default for f in contract.fields)


def _utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _quick_report(
    record: dict[str, Any], contract: Contract, error: ValidationError
) -> ValidationReport | None:
    """The report, from the columns of the fields Pydantic named; None if none fails."""
    details = error.errors(include_url=False, include_context=False, include_input=False)
    named = {str(e["loc"][0]) for e in details if e["loc"]}
    absent = [f for f in contract.fields if f.column not in record]
    fields = set(contract.columns)
    unexpected = [name for name in record if name not in fields]
    frame = pd.DataFrame([record]) if _diagnosable(record, contract, absent, unexpected) else None
    failures: dict[str, Failures] = {}
    for spec in contract.fields:
        if spec.column not in record:
            if spec.required:
                failures.setdefault(spec.name, Failures()).add("missing", "Field required", _ROW)
        elif spec.column in named:
            found = _field_failures(spec, record, frame)
            if found.by_rule:
                failures[spec.name] = found
    if not failures:
        return None
    rule_failures = [
        RuleFailure(
            column=column,
            rule=rule,
            message=message,
            count=len(positions),
            examples=[_example(record, column, p) for p in positions[:MAX_EXAMPLES]],
        )
        for column, column_failures in failures.items()
        for (rule, message), positions in column_failures.merged().items()
    ]
    report = ValidationReport(
        contract=contract.name,
        rows=1,
        invalid_rows=1,
        failures=rule_failures,
        null_counts=dict.fromkeys(record, 0),
        missing_columns=[f.column for f in absent if f.required],
        unexpected_columns=unexpected,
    )
    if frame is not None:
        report.diagnoses = diagnose(frame, contract, report, None)
    else:  # what `diagnose` finds on such a row: each required field absent, nothing else
        report.diagnoses = [_missing_diagnosis(f, []) for f in absent if f.required]
    return report


def _diagnosable(
    record: dict[str, Any], contract: Contract, absent: list[FieldSpec], unexpected: list[str]
) -> bool:
    """Whether `diagnose` may find more on the row than its absent fields, unexplained.

    A rename needs an absent field and a column the contract does not know; a date format,
    text in a date, datetime or str field, or in a field with a declared format; a null
    rate, nulls (not on this path) in ten rows or more.
    """
    if absent and unexpected:
        return True
    return any(
        type(record.get(f.column)) is str and (f.kind in _DATED_KINDS or f.date_format is not None)
        for f in contract.fields
    )


def _field_failures(
    spec: FieldSpec, record: dict[str, Any], frame: pd.DataFrame | None
) -> Failures:
    """What the engine's column check finds in the field's one value."""
    value = record[spec.column]
    if type(value) is str and spec.kind in _TEXT_TO_PYDANTIC and spec.date_format is None:
        # The check of a text column without a fast path for the field's kind: Pydantic
        # on the distinct strings, here the one (`_columns._with_pydantic`), without a Series.
        failures = Failures()
        verdicts = validate_items(spec.list_adapter, [value])
        for (rule, message), bad in verdicts.first_errors().items():
            failures.add(rule, message, _ROW[bad])
        return failures
    return check_column(spec, _column(record, spec.column, frame)).failures


def _column(record: dict[str, Any], name: str, frame: pd.DataFrame | None) -> pd.Series:
    """The frame's column `name`; without a frame, the column a frame would hold (one
    scalar: the same dtype inference)."""
    if frame is not None:
        return frame[name]
    return pd.Series([record[name]], name=name)


def _example(record: dict[str, Any], column: str, position: int) -> Example:
    """The example `validate` gives: the value as received (None for an absent column).

    The frame's value is the record's (one row: no dtype made it change), as a numpy scalar
    that `_json_safe` turns back into the same Python value.
    """
    value = _json_safe(record[column]) if column in record else None
    return Example(row=int(position), value=value)
