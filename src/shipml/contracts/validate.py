"""`validate(df, M)`: check every row of a frame against a Pydantic model, column by column.

The verdict per row is Pydantic's in lax mode (its default) for the row's record: the dict
of the row's values, where a missing value (None, NaN, NaT, pd.NA) is None. A NaN in a
float column therefore counts as null: it passes `float | None` and fails `float`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from shipml.contracts._columns import ColumnOutcome, Failures, check_column
from shipml.contracts._compile import Contract, compile_contract, single_field_model
from shipml.contracts.baseline import Baseline
from shipml.contracts.diagnose import diagnose
from shipml.contracts.errors import ContractViolation
from shipml.contracts.report import MAX_EXAMPLES, Example, RuleFailure, ValidationReport

Policy = Literal["fail", "quarantine"]
REASONS_COLUMN = "_reasons"
ROW = "(row)"  # the column name under which whole-row (model validator) failures are reported


@dataclass(frozen=True)
class ValidationResult:
    """Rows that passed (converted to the contract's types), rows that did not, and the report."""

    valid: pd.DataFrame
    quarantined: pd.DataFrame  # the invalid rows as received, plus a `_reasons` column
    report: ValidationReport


def validate(
    df: pd.DataFrame,
    model: type[BaseModel],
    *,
    policy: Policy = "fail",
    max_invalid_fraction: float = 0.1,
    baseline: Baseline | None = None,
) -> ValidationResult:
    """Validate `df` against `model`; raise `ContractViolation` as the policy says.

    `fail`: any invalid row raises. `quarantine`: invalid rows are set aside with their
    reasons and the valid rows go on, unless more than `max_invalid_fraction` are invalid.
    """
    contract = compile_contract(model)
    failures, outcomes, filled = _check(df, contract)
    invalid = _invalid_mask(len(df), failures)
    if contract.row_mode == "after" and not invalid.all():
        _check_model_validators(df, contract, ~invalid, failures)
        invalid = _invalid_mask(len(df), failures)
    report = _report(df, contract, failures, invalid, baseline)
    _apply_policy(report, policy, max_invalid_fraction)
    valid = _valid_frame(df, contract, outcomes, filled, ~invalid)
    quarantined = _quarantined_frame(df, failures, invalid) if invalid.any() else df.iloc[:0]
    return ValidationResult(valid=valid, quarantined=quarantined, report=report)


def _check(
    df: pd.DataFrame, contract: Contract
) -> tuple[dict[str, Failures], dict[str, ColumnOutcome], dict[str, Any]]:
    """Failures per column, the checked columns, and default values for absent columns."""
    failures: dict[str, Failures] = {}
    outcomes: dict[str, ColumnOutcome] = {}
    filled: dict[str, Any] = {}
    every_row = np.arange(len(df))
    duplicated = df.columns[df.columns.duplicated()].unique()
    for name in duplicated:
        failures.setdefault(str(name), Failures()).add(
            "duplicate_column", f"column {name!r} appears more than once", every_row
        )
    if contract.row_mode == "all":
        _check_whole_rows(df, contract, np.ones(len(df), dtype=bool), failures)
        return failures, outcomes, filled
    for spec in contract.fields:
        if spec.name not in df.columns:
            if spec.required:
                failures.setdefault(spec.name, Failures()).add(
                    "missing", "required column is missing", every_row
                )
            else:
                filled[spec.name] = spec.default_value()
            continue
        if spec.name in duplicated:
            continue
        column = df[spec.name]
        if spec.validators_read_row:
            continue  # validated below, with whole rows
        outcome = (
            _check_with_field_validators(contract, spec.name, column)
            if spec.validators
            else check_column(spec, column)
        )
        outcomes[spec.name] = outcome
        if outcome.failures.by_rule:
            failures[spec.name] = outcome.failures
    if contract.extra == "forbid":
        for name in df.columns.difference(contract.columns):
            failures.setdefault(str(name), Failures()).add(
                "extra_forbidden", "Extra inputs are not permitted", every_row
            )
    row_fields = {f.name for f in contract.fields if f.validators_read_row}
    present_row_fields = row_fields & set(df.columns)
    if present_row_fields:
        _check_whole_rows(df, contract, np.ones(len(df), dtype=bool), failures, present_row_fields)
    return failures, outcomes, filled


def _check_with_field_validators(contract: Contract, name: str, column: pd.Series) -> ColumnOutcome:
    """Pydantic, through the model's own field validators, on this one column."""
    model = single_field_model(contract.model, name)
    failures = Failures()
    values = column.to_numpy(dtype=object)
    converted = np.full(len(values), None, dtype=object)
    for position, value in enumerate(values):
        try:
            converted[position] = getattr(
                model.model_validate({name: _missing_to_none(value)}), name
            )
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            failures.add(first["type"], first["msg"], np.array([position]))
    series = pd.Series(converted, index=column.index, name=column.name).infer_objects()
    return ColumnOutcome(failures, series)


def _check_whole_rows(
    df: pd.DataFrame,
    contract: Contract,
    rows: np.ndarray,
    failures: dict[str, Failures],
    only_fields: set[str] | None = None,
) -> None:
    """Pydantic on whole records of `rows`; keep errors of `only_fields` (all when None)."""
    positions = np.flatnonzero(rows)
    records = _records(df.iloc[positions])
    for position, record in zip(positions, records, strict=True):
        try:
            contract.model.model_validate(record)
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                column = str(detail["loc"][0]) if detail["loc"] else ROW
                if only_fields is None or column in only_fields:
                    failures.setdefault(column, Failures()).add(
                        detail["type"], detail["msg"], np.array([position])
                    )


def _check_model_validators(
    df: pd.DataFrame, contract: Contract, rows: np.ndarray, failures: dict[str, Failures]
) -> None:
    """Run the model's after-validators on the rows that passed every column check."""
    _check_whole_rows(df, contract, rows, failures)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row as a dict, with missing values as None."""
    return [
        {key: _missing_to_none(value) for key, value in record.items()}
        for record in df.to_dict("records")
    ]


def _missing_to_none(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic) and pd.api.types.is_scalar(value) and pd.isna(value):
        return None
    return value


def _invalid_mask(rows: int, failures: dict[str, Failures]) -> np.ndarray:
    invalid = np.zeros(rows, dtype=bool)
    for column_failures in failures.values():
        invalid[column_failures.invalid_positions()] = True
    return invalid


def _report(
    df: pd.DataFrame,
    contract: Contract,
    failures: dict[str, Failures],
    invalid: np.ndarray,
    baseline: Baseline | None,
) -> ValidationReport:
    rule_failures = [
        RuleFailure(
            column=column,
            rule=rule,
            message=message,
            count=len(positions),
            examples=_examples(df, column, positions),
        )
        for column, column_failures in failures.items()
        for (rule, message), positions in column_failures.merged().items()
    ]
    present = set(df.columns)
    missing = [f.name for f in contract.fields if f.required and f.name not in present]
    unexpected = [str(c) for c in df.columns if c not in set(contract.columns)]
    null_counts = {str(name): int(count) for name, count in df.isna().sum().items()}
    report = ValidationReport(
        contract=contract.name,
        rows=len(df),
        invalid_rows=int(invalid.sum()),
        failures=rule_failures,
        null_counts=null_counts,
        missing_columns=missing,
        unexpected_columns=unexpected,
    )
    report.diagnoses = diagnose(df, contract, report, baseline)
    return report


def _examples(df: pd.DataFrame, column: str, positions: np.ndarray) -> list[Example]:
    shown = positions[:MAX_EXAMPLES]
    if column not in df.columns or df.columns.duplicated().any():
        return [Example(row=int(p), value=None) for p in shown]
    values = df[column].iloc[shown]
    return [Example(row=int(p), value=_json_safe(v)) for p, v in zip(shown, values, strict=True)]


def _json_safe(value: Any) -> Any:
    value = _missing_to_none(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value if not isinstance(value, str) else value[:200]
    return repr(value)[:200]


def _apply_policy(report: ValidationReport, policy: Policy, max_invalid_fraction: float) -> None:
    if report.ok:
        return
    if policy == "fail":
        raise ContractViolation(report)
    if policy != "quarantine":
        raise ValueError(f"unknown policy {policy!r}: expected 'fail' or 'quarantine'")
    fraction = report.invalid_rows / max(report.rows, 1)
    if fraction > max_invalid_fraction:
        raise ContractViolation(
            report,
            f"{fraction:.1%} of rows invalid, above the quarantine limit "
            f"of {max_invalid_fraction:.1%}",
        )


def _valid_frame(
    df: pd.DataFrame,
    contract: Contract,
    outcomes: dict[str, ColumnOutcome],
    filled: dict[str, Any],
    valid: np.ndarray,
) -> pd.DataFrame:
    """The valid rows, with the contract's columns converted and defaults filled in."""
    all_valid = bool(valid.all())
    columns: dict[str, Any] = {}
    for spec in contract.fields:
        if spec.name in outcomes:
            columns[spec.name] = outcomes[spec.name].values
        elif spec.name in filled:
            columns[spec.name] = pd.Series([filled[spec.name]] * len(df), index=df.index)
        elif spec.name in df.columns:
            columns[spec.name] = df[spec.name]
    if contract.extra == "allow":
        for name in df.columns.difference(contract.columns):
            columns[str(name)] = df[name]
    frame = pd.DataFrame(columns, index=df.index, copy=False)
    if all_valid:
        return frame
    kept = frame.iloc[np.flatnonzero(valid)]
    return kept.infer_objects()


def _quarantined_frame(
    df: pd.DataFrame, failures: dict[str, Failures], invalid: np.ndarray
) -> pd.DataFrame:
    """Invalid rows as received, each with the reasons it failed."""
    positions = np.flatnonzero(invalid)
    reasons: dict[int, list[str]] = {}
    for column, column_failures in failures.items():
        for (rule, _), rule_positions in column_failures.merged().items():
            for position in rule_positions:
                reasons.setdefault(int(position), []).append(f"{column}: {rule}")
    quarantined = df.iloc[positions].copy()
    quarantined[REASONS_COLUMN] = ["; ".join(reasons[int(p)]) for p in positions]
    return quarantined
